// .npy: golden bytes as numpy writes them, round trips, and malformed files.
#include "formats/npy.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace ane {
namespace {

// np.save of np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32), header written by hand.
std::vector<uint8_t> golden_2x3_f32() {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  header.append(128 - 10 - header.size() - 1, ' ');
  header += '\n';
  const uint8_t magic[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, static_cast<uint8_t>(header.size() & 0xFF),
                             static_cast<uint8_t>(header.size() >> 8)};
  const float values[6] = {1.f, 2.f, 3.f, 4.f, 5.f, 6.f};
  std::vector<uint8_t> b(sizeof magic + header.size() + sizeof values);
  std::memcpy(b.data(), magic, sizeof magic);
  std::memcpy(b.data() + sizeof magic, header.data(), header.size());
  std::memcpy(b.data() + sizeof magic + header.size(), values, sizeof values);  // little-endian f32
  return b;
}

TEST(Npy, ReadsGoldenBytes) {
  auto a = parse_npy(golden_2x3_f32(), "a.npy");
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  EXPECT_EQ(a->descr, "<f4");
  EXPECT_EQ(a->shape, (std::vector<int64_t>{2, 3}));
  ASSERT_EQ(a->data.size(), 24u);
  float last;
  std::memcpy(&last, a->data.data() + 20, 4);
  EXPECT_EQ(last, 6.f);
}

TEST(Npy, WritesWhatNumpyWrites) {
  NpyArray a;
  a.descr = "<f4";
  a.shape = {2, 3};
  auto golden = golden_2x3_f32();
  a.data.assign(golden.end() - 24, golden.end());
  auto bytes = serialize_npy(a);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, golden);
}

TEST(Npy, RoundTripsShapesAndTypes) {
  for (const auto& [descr, shape] : std::vector<std::pair<std::string, std::vector<int64_t>>>{
           {"<f2", {1, 768, 1, 4}}, {"<i4", {5}}, {"|u1", {}}, {"<f8", {2, 0, 3}}}) {
    NpyArray a;
    a.descr = descr;
    a.shape = shape;
    a.data.resize(static_cast<size_t>(a.element_count()) * npy_item_size(descr));
    for (size_t i = 0; i < a.data.size(); ++i) a.data[i] = static_cast<uint8_t>(i * 7);
    auto bytes = serialize_npy(a);
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ((bytes->size() - a.data.size()) % 64, 0u) << "data is 64-byte aligned";
    auto back = parse_npy(*bytes, "x.npy");
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(back->descr, descr);
    EXPECT_EQ(back->shape, shape);
    EXPECT_EQ(back->data, a.data);
  }
}

TEST(Npy, RejectsMalformedFiles) {
  auto good = golden_2x3_f32();
  auto bad_magic = good;
  bad_magic[1] = 'X';
  auto r = parse_npy(bad_magic, "m.npy");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("bad magic"), std::string::npos);
  EXPECT_EQ(r.error().where().byte_offset, 0);

  auto truncated = std::vector<uint8_t>(good.begin(), good.end() - 4);
  r = parse_npy(truncated, "t.npy");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("20 bytes but descr '<f4' and the shape need 24"), std::string::npos);
  EXPECT_EQ(r.error().where().byte_offset, 128);

  auto fortran = good;
  std::string h(fortran.begin() + 10, fortran.begin() + 128);
  auto at = h.find("False");
  std::memcpy(fortran.data() + 10 + at, "True ", 5);
  r = parse_npy(fortran, "f.npy");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("Fortran-order"), std::string::npos);

  auto big_endian = good;
  big_endian[10 + h.find("<f4")] = '>';
  r = parse_npy(big_endian, "b.npy");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("unsupported npy dtype '>f4'"), std::string::npos);

  r = parse_npy(std::vector<uint8_t>(good.begin(), good.begin() + 50), "h.npy");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("truncated"), std::string::npos);
}

}  // namespace
}  // namespace ane
