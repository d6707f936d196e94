// MIL programs shared by the parser and printer tests, one per style of file we must read.
#pragma once

namespace ane::mil::testing {

// An SDPA-forward-like kernel in the exact style of the original ANE training code: short
// literals, named const conv parameters, BLOBFILE weights, [1, C, 1, S] tensors, concat taps.
inline constexpr const char* kOriginalStyleSdpa = R"MIL(program(1.3)
[buildInfo = dict<string, string>({{"coremlc-component-MIL", "3510.2.1"}, {"coremlc-version", "3505.4.1"}, {"coremltools-component-milinternal", ""}, {"coremltools-version", "9.0"}})]
{
    func main<ios18>(tensor<fp32, [1, 64, 1, 16]> x) {
        string to16 = const()[name = string("to16"), val = string("fp16")];
        tensor<fp16, [1, 64, 1, 16]> xh = cast(dtype = to16, x = x)[name = string("cast_in")];
        string pt = const()[name = string("pt"), val = string("valid")];
        tensor<int32, [2]> st = const()[name = string("st"), val = tensor<int32, [2]>([1, 1])];
        tensor<int32, [4]> pd = const()[name = string("pd"), val = tensor<int32, [4]>([0, 0, 0, 0])];
        tensor<int32, [2]> dl = const()[name = string("dl"), val = tensor<int32, [2]>([1, 1])];
        int32 gr = const()[name = string("gr"), val = int32(1)];
        tensor<fp16, [64, 64, 1, 1]> Wq = const()[name = string("Wq"), val = tensor<fp16, [64, 64, 1, 1]>(BLOBFILE(path = string("@model_path/weights/wq.bin"), offset = uint64(64)))];
        tensor<fp16, [64, 64, 1, 1]> Wk = const()[name = string("Wk"), val = tensor<fp16, [64, 64, 1, 1]>(BLOBFILE(path = string("@model_path/weights/wk.bin"), offset = uint64(64)))];
        tensor<fp16, [64, 64, 1, 1]> Wv = const()[name = string("Wv"), val = tensor<fp16, [64, 64, 1, 1]>(BLOBFILE(path = string("@model_path/weights/wv.bin"), offset = uint64(64)))];
        tensor<fp16, [1, 64, 1, 16]> q = conv(dilations = dl, groups = gr, pad = pd, pad_type = pt, strides = st, weight = Wq, x = xh)[name = string("q_proj")];
        tensor<fp16, [1, 64, 1, 16]> k = conv(dilations = dl, groups = gr, pad = pd, pad_type = pt, strides = st, weight = Wk, x = xh)[name = string("k_proj")];
        tensor<fp16, [1, 64, 1, 16]> v = conv(dilations = dl, groups = gr, pad = pd, pad_type = pt, strides = st, weight = Wv, x = xh)[name = string("v_proj")];
        tensor<int32, [4]> hsh = const()[name = string("hsh"), val = tensor<int32, [4]>([1, 4, 16, 16])];
        tensor<fp16, [1, 4, 16, 16]> q4 = reshape(shape = hsh, x = q)[name = string("q4")];
        tensor<fp16, [1, 4, 16, 16]> k4 = reshape(shape = hsh, x = k)[name = string("k4")];
        tensor<fp16, [1, 4, 16, 16]> v4 = reshape(shape = hsh, x = v)[name = string("v4")];
        tensor<int32, [4]> pm = const()[name = string("pm"), val = tensor<int32, [4]>([0, 1, 3, 2])];
        tensor<fp16, [1, 4, 16, 16]> qt = transpose(perm = pm, x = q4)[name = string("qt")];
        tensor<fp16, [1, 4, 16, 16]> kt = transpose(perm = pm, x = k4)[name = string("kt")];
        tensor<fp16, [1, 4, 16, 16]> vt = transpose(perm = pm, x = v4)[name = string("vt")];
        bool tx = const()[name = string("tx"), val = bool(false)];
        bool ty = const()[name = string("ty"), val = bool(true)];
        tensor<fp16, [1, 4, 16, 16]> sc1 = matmul(transpose_x = tx, transpose_y = ty, x = qt, y = kt)[name = string("sc1")];
        fp16 scv = const()[name = string("scv"), val = fp16(0.25)];
        tensor<fp16, [1, 4, 16, 16]> sc2 = mul(x = sc1, y = scv)[name = string("sc2")];
        tensor<fp16, [1, 1, 16, 16]> cm = const()[name = string("cm"), val = tensor<fp16, [1, 1, 16, 16]>(BLOBFILE(path = string("@model_path/weights/mask.bin"), offset = uint64(64)))];
        tensor<fp16, [1, 4, 16, 16]> ms = add(x = sc2, y = cm)[name = string("ms")];
        int32 sax = const()[name = string("sax"), val = int32(-1)];
        tensor<fp16, [1, 4, 16, 16]> aw = softmax(axis = sax, x = ms)[name = string("aw")];
        tensor<fp16, [1, 4, 16, 16]> a4 = matmul(transpose_x = tx, transpose_y = tx, x = aw, y = vt)[name = string("a4")];
        tensor<fp16, [1, 4, 16, 16]> at = transpose(perm = pm, x = a4)[name = string("at")];
        tensor<int32, [4]> osh = const()[name = string("osh"), val = tensor<int32, [4]>([1, 64, 1, 16])];
        tensor<fp16, [1, 64, 1, 16]> o = reshape(shape = osh, x = at)[name = string("o")];
        tensor<fp16, [1, 64, 1, 16]> sq = mul(x = o, y = o)[name = string("sq")];
        tensor<int32, [1]> rax = const()[name = string("rax"), val = tensor<int32, [1]>([1])];
        bool kd = const()[name = string("kd"), val = bool(true)];
        tensor<fp16, [1, 1, 1, 16]> ss = reduce_sum(axes = rax, keep_dims = kd, x = sq)[name = string("ss")];
        fp16 nhalf = const()[name = string("nhalf"), val = fp16(-0.5)];
        tensor<fp16, [1, 1, 1, 16]> rr = pow(x = ss, y = nhalf)[name = string("rr")];
        tensor<int32, [4]> b0 = const()[name = string("b0"), val = tensor<int32, [4]>([0, 32, 0, 0])];
        tensor<int32, [4]> sz = const()[name = string("sz"), val = tensor<int32, [4]>([1, 32, 1, 16])];
        tensor<fp16, [1, 32, 1, 16]> hi = slice_by_size(begin = b0, size = sz, x = o)[name = string("hi")];
        int32 cax = const()[name = string("cax"), val = int32(1)];
        bool cid = const()[name = string("cid"), val = bool(false)];
        tensor<fp16, [1, 161, 1, 16]> taps = concat(axis = cax, interleave = cid, values = (o, hi, k, rr))[name = string("taps")];
        string to32 = const()[name = string("to32"), val = string("fp32")];
        tensor<fp32, [1, 161, 1, 16]> y = cast(dtype = to32, x = taps)[name = string("cast_out")];
    } -> (y);
}
)MIL";

// The same kind of file as older Core ML targets write it: program(1.0), the verbose dict
// type, verbose rank-0 literals, hex floats and deeper indentation.
inline constexpr const char* kVerboseOlderTarget = R"MIL(program(1.0)
[buildInfo = dict<tensor<string, []>, tensor<string, []>>({{"coremlc-component-MIL", "5.33.5"}, {"coremlc-version", "1877.40.3"}})]
{
    func main<ios16>(tensor<fp32, [1, 3]> x) {
            tensor<string, []> dt = const()[name = tensor<string, []>("dt"), val = tensor<string, []>("fp16")];
            tensor<fp16, [1, 3]> xh = cast(dtype = dt, x = x)[name = tensor<string, []>("cast_0")];
            tensor<int32, []> ax = const()[name = tensor<string, []>("ax"), val = tensor<int32, []>(1)];
            tensor<bool, []> kd = const()[name = tensor<string, []>("kd"), val = tensor<bool, []>(true)];
            tensor<fp16, []> eps = const()[name = tensor<string, []>("eps"), val = tensor<fp16, []>(0x1p-24)];
            tensor<fp16, []> big = const()[name = tensor<string, []>("big"), val = tensor<fp16, []>(-0x1.8p+3)];
            tensor<fp16, [1, 3]> y0 = add(x = xh, y = eps)[name = tensor<string, []>("y0")];
            tensor<fp16, [1, 3]> y1 = mul(x = y0, y = big)[name = tensor<string, []>("y1")];
            tensor<fp16, [1, 3]> y = softmax(axis = ax, x = y1)[name = tensor<string, []>("y")];
        } -> (y);
}
)MIL";

// kVerboseOlderTarget in the short form: parses to the same program.
inline constexpr const char* kVerboseOlderTargetShort = R"MIL(program(1.0)
[buildInfo = dict<string, string>({{"coremlc-component-MIL", "5.33.5"}, {"coremlc-version", "1877.40.3"}})]
{
    func main<ios16>(tensor<fp32, [1, 3]> x) {
        string dt = const()[name = string("dt"), val = string("fp16")];
        tensor<fp16, [1, 3]> xh = cast(dtype = dt, x = x)[name = string("cast_0")];
        int32 ax = const()[name = string("ax"), val = int32(1)];
        bool kd = const()[name = string("kd"), val = bool(true)];
        fp16 eps = const()[name = string("eps"), val = fp16(0x1p-24)];
        fp16 big = const()[name = string("big"), val = fp16(-12)];
        tensor<fp16, [1, 3]> y0 = add(x = xh, y = eps)[name = string("y0")];
        tensor<fp16, [1, 3]> y1 = mul(x = y0, y = big)[name = string("y1")];
        tensor<fp16, [1, 3]> y = softmax(axis = ax, x = y1)[name = string("y")];
    } -> (y);
}
)MIL";

// Every other construct: several functions, multiple results, inline literals and tuples,
// every dtype, nested and flat lists, special floats, escapes, comments, no attribute block.
inline constexpr const char* kEveryConstruct = R"MIL(// leading comment
program(1.3)
{
    func main<ios18>(tensor<fp16, [1, 8, 1, 4]> x, fp32 s, tensor<int32, [2]> idx) {
        // split into two halves
        tensor<fp16, [1, 4, 1, 4]> a, tensor<fp16, [1, 4, 1, 4]> b = split(axis = int32(1), num_splits = int32(2), x = x)[name = string("split")];
        tensor<fp16, [1, 8, 1, 4]> c = concat(axis = int32(1), interleave = bool(false), values = (b, a))[name = string("cat")];
        tensor<fp16, [1, 8, 1, 4]> d = add(x = c, y = fp16(0.1));  // no attributes
        tensor<fp32, [2, 2]> m = const()[name = string("m"), val = tensor<fp32, [2, 2]>([[1.5, -2], [3e-3, 0x1.8p1]])];
        tensor<fp32, [2, 3]> flat = const()[name = string("flat"), val = tensor<fp32, [2, 3]>([1, 2, 3, 4, 5, 6])];
        tensor<fp32, [4]> special = const()[name = string("special"), val = tensor<fp32, [4]>([inf, -inf, nan, -0.0])];
        tensor<bf16, [2]> b16 = const()[name = string("b16"), val = tensor<bf16, [2]>([1.0, 3.140625])];
        tensor<int8, [2]> i8 = const()[name = string("i8"), val = tensor<int8, [2]>([-128, 127])];
        tensor<uint8, [2]> u8 = const()[name = string("u8"), val = tensor<uint8, [2]>([0, 255])];
        tensor<int16, [2]> i16 = const()[name = string("i16"), val = tensor<int16, [2]>([-32768, 32767])];
        tensor<uint16, [1]> u16 = const()[name = string("u16"), val = tensor<uint16, [1]>([65535])];
        tensor<uint32, [1]> u32 = const()[name = string("u32"), val = tensor<uint32, [1]>([4294967295])];
        tensor<int64, [2]> i64 = const()[name = string("i64"), val = tensor<int64, [2]>([-9223372036854775808, 9223372036854775807])];
        uint64 u64 = const()[name = string("u64"), val = uint64(18446744073709551615)];
        tensor<bool, [2, 1]> bs = const()[name = string("bs"), val = tensor<bool, [2, 1]>([[true], [false]])];
        tensor<string, [3]> strs = const()[name = string("strs"), val = tensor<string, [3]>(["a\"b", "tab\there", "\x01\\"])];
        tensor<int32, [0]> none = const()[name = string("none"), val = tensor<int32, [0]>([])];
        tensor<fp16, [2, 1, 1, 1]> w = const()[name = string("w"), val = tensor<fp16, [2, 1, 1, 1]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(128)))];
        tensor<int32, [2]> g = gather(x = idx, indices = tensor<int32, [2]>([1, 0]), custom = string("odd name"))[name = string("g"), note = tensor<string, []>("verbose attr"), weights = tensor<fp16, [2]>(BLOBFILE(path = string("w.bin"), offset = uint64(0)))];
    } -> (d, a, g);

    func second<ios17>() {
        fp32 one = const()[name = string("one"), val = fp32(1)];
    } -> (one);
}
)MIL";

}  // namespace ane::mil::testing
