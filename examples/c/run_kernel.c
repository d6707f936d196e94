/* run_kernel.c: compiles a 1x1-conv MIL kernel through libane_bridge and checks it.
 *
 *   cc run_kernel.c $(pkg-config --cflags --libs ane_bridge) -o run_kernel && ./run_kernel
 *
 * y[1, OC, 1, S] = W[OC, C] x[1, C, 1, S], fp32 surfaces, fp16 inside, W from a weight blob.
 * Exits 0 when the result matches a plain C computation. */
#include <ane_bridge.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { C = 8, OC = 4, S = 2 };

static const char *kMil =
    "program(1.3)\n"
    "{\n"
    "    func main<ios18>(tensor<fp32, [1, 8, 1, 2]> x) {\n"
    "        string to16 = const()[name = string(\"to16\"), val = string(\"fp16\")];\n"
    "        tensor<fp16, [1, 8, 1, 2]> xh = cast(dtype = to16, x = x)[name = string(\"cast_in\")];\n"
    "        tensor<fp16, [4, 8, 1, 1]> W = const()[name = string(\"W\"), val = tensor<fp16, [4, 8, 1, 1]>"
    "(BLOBFILE(path = string(\"@model_path/weights/weight.bin\"), offset = uint64(64)))];\n"
    "        tensor<fp16, [1, 4, 1, 2]> yh = conv(dilations = tensor<int32, [2]>([1, 1]), groups = int32(1), "
    "pad = tensor<int32, [4]>([0, 0, 0, 0]), pad_type = string(\"valid\"), strides = tensor<int32, [2]>([1, 1]), "
    "weight = W, x = xh)[name = string(\"conv\")];\n"
    "        string to32 = const()[name = string(\"to32\"), val = string(\"fp32\")];\n"
    "        tensor<fp32, [1, 4, 1, 2]> y = cast(dtype = to32, x = yh)[name = string(\"cast_out\")];\n"
    "    } -> (y);\n"
    "}\n";

int main(void) {
  float w[OC * C], x[C * S], y[OC * S];
  for (int i = 0; i < OC * C; ++i) w[i] = (float)((i % 7) - 3) * 0.125f;
  for (int i = 0; i < C * S; ++i) x[i] = (float)((i % 5) - 2) * 0.25f;

  if (ane_bridge_init() != 0) {
    fprintf(stderr, "init: %s\n", ane_bridge_last_error());
    return 1;
  }
  size_t blob_len = 0;
  uint8_t *blob = ane_bridge_build_weight_blob(w, OC, C, &blob_len);
  const size_t in_size = sizeof x, out_size = sizeof y;
  ANEKernelHandle *k = ane_bridge_compile(kMil, strlen(kMil), blob, blob_len, 1, &in_size, 1, &out_size);
  ane_bridge_free_blob(blob); /* compile copied it */
  if (k == NULL) {
    fprintf(stderr, "compile: %s\n", ane_bridge_last_error());
    return 1;
  }
  ane_bridge_write_input(k, 0, x, sizeof x);
  if (!ane_bridge_run(k)) {
    fprintf(stderr, "run: %s\n", ane_bridge_last_error());
    ane_bridge_free(k);
    return 1;
  }
  ane_bridge_read_output(k, 0, y, sizeof y);
  ane_bridge_free(k);

  double max_err = 0;
  for (int o = 0; o < OC; ++o) {
    for (int s = 0; s < S; ++s) {
      double want = 0;
      for (int c = 0; c < C; ++c) want += (double)w[o * C + c] * x[c * S + s];
      max_err = fmax(max_err, fabs(want - y[o * S + s]));
    }
  }
  printf("y[0, 0..3, 0, 0] = %g %g %g %g; max |error| = %g; compiles = %d\n", y[0], y[2], y[4], y[6], max_err,
         ane_bridge_get_compile_count());
  return max_err < 1e-2 ? 0 : 1;
}
