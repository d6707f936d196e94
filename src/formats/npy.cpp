#include "formats/npy.h"

#include <cctype>
#include <cstring>

#include "core/byte_reader.h"
#include "core/file.h"
#include "formats/binary_io.h"

namespace ane {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

// The value text of `key` in the header dict ("'<f4'", "False", "(2, 3)"), or "" if absent.
std::string dict_value(const std::string& header, const std::string& key) {
  const std::string quoted = "'" + key + "'";
  size_t at = header.find(quoted);
  if (at == std::string::npos) return "";
  at = header.find(':', at + quoted.size());
  if (at == std::string::npos) return "";
  ++at;
  while (at < header.size() && header[at] == ' ') ++at;
  size_t end = at;
  if (at < header.size() && header[at] == '(') {
    end = header.find(')', at);
    return end == std::string::npos ? "" : header.substr(at, end - at + 1);
  }
  if (at < header.size() && header[at] == '\'') {
    end = header.find('\'', at + 1);
    return end == std::string::npos ? "" : header.substr(at, end - at + 1);
  }
  while (end < header.size() && header[end] != ',' && header[end] != '}') ++end;
  return header.substr(at, end - at);
}

Expected<std::vector<int64_t>> parse_shape(const std::string& text, const ByteReader& r, size_t header_at) {
  if (text.size() < 2 || text.front() != '(' || text.back() != ')') {
    return r.error_at(header_at, "npy header has no valid 'shape' tuple");
  }
  std::vector<int64_t> shape;
  size_t i = 1;
  while (i < text.size() - 1) {
    while (i < text.size() - 1 && (text[i] == ' ' || text[i] == ',')) ++i;
    if (i >= text.size() - 1) break;
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) {
      return r.error_at(header_at, "npy shape " + text + " has a non-numeric dimension");
    }
    int64_t d = 0;
    while (i < text.size() - 1 && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (d > (int64_t{1} << 40)) return r.error_at(header_at, "npy shape " + text + " has a dimension too large");
      d = d * 10 + (text[i++] - '0');
    }
    shape.push_back(d);
  }
  return shape;
}

// Python's repr of a tuple of ints: (), (3,), (2, 3).
std::string python_tuple(const std::vector<int64_t>& dims) {
  std::string s = "(";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + (dims.size() == 1 ? ",)" : ")");
}

}  // namespace

int64_t NpyArray::element_count() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

size_t npy_item_size(const std::string& descr) {
  static const struct {
    const char* descr;
    size_t size;
  } kTypes[] = {{"<f2", 2}, {"<f4", 4}, {"<f8", 8}, {"|i1", 1}, {"|u1", 1}, {"|b1", 1}, {"<i2", 2},
                {"<u2", 2}, {"<i4", 4}, {"<u4", 4}, {"<i8", 8}, {"<u8", 8}};
  for (const auto& t : kTypes) {
    if (descr == t.descr) return t.size;
  }
  return 0;
}

Expected<NpyArray> parse_npy(std::span<const uint8_t> bytes, const std::string& source) {
  ByteReader r(bytes, source);
  ANE_ASSIGN_OR_RETURN(auto magic, r.take(kMagicSize, "npy magic"));
  if (std::memcmp(magic.data(), kMagic, kMagicSize) != 0) return r.error_at(0, "not a .npy file (bad magic)");
  ANE_ASSIGN_OR_RETURN(uint8_t major, r.read<uint8_t>("npy version"));
  ANE_ASSIGN_OR_RETURN(uint8_t minor, r.read<uint8_t>("npy version"));
  (void)minor;
  uint32_t header_len = 0;
  if (major == 1) {
    ANE_ASSIGN_OR_RETURN(uint16_t len16, r.read<uint16_t>("npy header length"));
    header_len = len16;
  } else if (major == 2 || major == 3) {
    ANE_ASSIGN_OR_RETURN(header_len, r.read<uint32_t>("npy header length"));
  } else {
    return r.error_at(6, "unsupported .npy format version " + std::to_string(major));
  }
  const size_t header_at = r.offset();
  ANE_ASSIGN_OR_RETURN(auto header_bytes, r.take(header_len, "npy header"));
  const std::string header(header_bytes.begin(), header_bytes.end());

  NpyArray a;
  std::string descr = dict_value(header, "descr");
  if (descr.size() < 2) return r.error_at(header_at, "npy header has no 'descr'");
  a.descr = descr.substr(1, descr.size() - 2);
  if (a.descr == "<i1" || a.descr == "<u1" || a.descr == "<b1") a.descr[0] = '|';
  const size_t item = npy_item_size(a.descr);
  if (item == 0) return r.error_at(header_at, "unsupported npy dtype '" + a.descr + "' (little-endian numeric only)");
  if (dict_value(header, "fortran_order") != "False") {
    return r.error_at(header_at, "Fortran-order arrays are not supported (save with np.ascontiguousarray)");
  }
  ANE_ASSIGN_OR_RETURN(a.shape, parse_shape(dict_value(header, "shape"), r, header_at));
  uint64_t bytes_needed = item;
  for (int64_t d : a.shape) {
    if (!checked_mul(bytes_needed, static_cast<uint64_t>(d), &bytes_needed)) {
      return r.error_at(header_at, "npy shape is too large");
    }
  }
  if (r.remaining() != bytes_needed) {
    return r.error("npy data is " + std::to_string(r.remaining()) + " bytes but descr '" + a.descr +
                   "' and the shape need " + std::to_string(bytes_needed));
  }
  ANE_ASSIGN_OR_RETURN(auto data, r.take(bytes_needed, "npy data"));
  a.data.assign(data.begin(), data.end());
  return a;
}

Expected<NpyArray> read_npy(const std::string& path) {
  ANE_ASSIGN_OR_RETURN(MappedFile file, MappedFile::open(path));
  return parse_npy(file.bytes(), path);
}

Expected<std::vector<uint8_t>> serialize_npy(const NpyArray& array) {
  const size_t item = npy_item_size(array.descr);
  if (item == 0) return invalid_argument("unsupported npy dtype '" + array.descr + "'");
  if (array.data.size() != static_cast<size_t>(array.element_count()) * item) {
    return invalid_argument("npy data is " + std::to_string(array.data.size()) + " bytes but the shape needs " +
                            std::to_string(static_cast<size_t>(array.element_count()) * item));
  }
  std::string dict = "{'descr': '" + array.descr + "', 'fortran_order': False, 'shape': " +
                     python_tuple(array.shape) + ", }";
  const bool v2 = dict.size() + 1 + kMagicSize + 4 > 65535;
  const size_t prefix = kMagicSize + 2 + (v2 ? 4 : 2);
  const size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;  // data 64-byte aligned
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict += '\n';
  ByteWriter w(total + array.data.size());
  w.put_bytes({reinterpret_cast<const uint8_t*>(kMagic), kMagicSize});
  w.put<uint8_t>(v2 ? 2 : 1);
  w.put<uint8_t>(0);
  if (v2) w.put<uint32_t>(static_cast<uint32_t>(dict.size()));
  else w.put<uint16_t>(static_cast<uint16_t>(dict.size()));
  w.put_bytes({reinterpret_cast<const uint8_t*>(dict.data()), dict.size()});
  w.put_bytes(array.data);
  return std::move(w).take();
}

Status write_npy(const std::string& path, const NpyArray& array) {
  ANE_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, serialize_npy(array));
  return write_file_atomic(path, bytes);
}

}  // namespace ane
