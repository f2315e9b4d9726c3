// The parameter-server wire protocol: headers survive the float buffer they
// travel in, every field keeps one meaning, and short messages are refused.
#include "methods/ps_protocol.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace distsgd::ps {
namespace {

TEST(PsProtocol, HeaderRoundTripsThroughAFloatBufferWithEveryField) {
  auto header = make_header(Kind::checkpoint);
  header.step = 41;
  header.version = -3;
  header.epoch = 7;
  header.workers_training = 5;
  header.checkpoint = static_cast<int64_t>(CheckpointAnswer::written);
  header.part_bytes = 123456789012;
  header.part_crc = 0xdeadbeef;
  header.lr = 0.0625;
  std::vector<float> message(kHeaderFloats + 3, 1.5f);
  write_header(message, header);
  const auto back = read_header(message);
  EXPECT_EQ(back.kind, static_cast<int64_t>(Kind::checkpoint));
  EXPECT_EQ(back.step, 41);
  EXPECT_EQ(back.version, -3);
  EXPECT_EQ(back.epoch, 7);
  EXPECT_EQ(back.workers_training, 5);
  EXPECT_EQ(back.checkpoint, static_cast<int64_t>(CheckpointAnswer::written));
  EXPECT_EQ(back.part_bytes, 123456789012);
  EXPECT_EQ(back.part_crc, 0xdeadbeef);
  EXPECT_EQ(back.lr, 0.0625);
  // The payload after the header is untouched.
  const auto data = payload(message);
  ASSERT_EQ(data.size(), 3u);
  EXPECT_EQ(data[0], 1.5f);
}

TEST(PsProtocol, MakeHeaderZeroesTheFieldsAKindDoesNotUse) {
  const auto header = make_header(Kind::done);
  EXPECT_EQ(header.kind, static_cast<int64_t>(Kind::done));
  EXPECT_EQ(header.version, 0);
  EXPECT_EQ(header.epoch, 0);
  EXPECT_EQ(header.workers_training, 0);
  EXPECT_EQ(header.checkpoint, static_cast<int64_t>(CheckpointAnswer::none));
  EXPECT_EQ(header.lr, 0.0);
}

TEST(PsProtocol, AMessageShorterThanItsHeaderIsRefused) {
  std::vector<float> short_message(kHeaderFloats - 1);
  EXPECT_THROW(read_header(short_message), std::logic_error);
  EXPECT_THROW(write_header(short_message, make_header(Kind::pull)), std::logic_error);
}

TEST(PsProtocol, KindNamesAreDistinctAndAnUnknownKindIsNamedByNumber) {
  EXPECT_EQ(kind_name(Kind::push_gradient), "gradient push");
  EXPECT_EQ(kind_name(Kind::elastic), "elastic exchange");
  EXPECT_EQ(kind_name(Kind::pull), "parameter pull");
  EXPECT_EQ(kind_name(Kind::done), "end-of-training notice");
  EXPECT_EQ(kind_name(Kind::checkpoint), "checkpoint request");
  EXPECT_EQ(kind_name(static_cast<Kind>(99)), "request of unknown kind 99");
}

}  // namespace
}  // namespace distsgd::ps
