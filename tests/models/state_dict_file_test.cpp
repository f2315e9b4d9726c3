// The state dict reader and writer (models/state_dict_file.hpp,
// state_dict_pickle.hpp, zip_entries.hpp) and strict loading into a model
// (named_state.hpp). Python's side (torch.save, torch.load, torchvision) is
// ctest interop.torchvision; here, a pickle Python wrote and files this
// writer wrote, whole and damaged.
#include "models/state_dict_file.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <string>

#include "core/errors.hpp"
#include "models/model.hpp"
#include "models/named_state.hpp"
#include "models/state_dict_pickle.hpp"
#include "temp_dir.hpp"

namespace distsgd::models {
namespace {

// data.pkl of torch.save(sd) in Debian's PyTorch 1.13, where sd is the
// state_dict() of nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)) plus
// sd["0.weight_t"] = the weight transposed (a view of the same storage):
// an OrderedDict with _metadata (BUILD), memo references, a LongStorage.
const char* const kPythonPickleHex =
    "800263636f6c6c656374696f6e730a4f726465726564446963740a710029527101285808000000302e776569676874"
    "71"
    "0263746f7263682e5f7574696c730a5f72656275696c645f74656e736f725f76320a71032828580700000073746f72"
    "61"
    "6765710463746f7263680a466c6f617453746f726167650a71055801000000307106580300000063707571074b0674"
    "71"
    "08514b004b034b028671094b024b0186710a8968002952710b74710c52710d5806000000302e62696173710e680328"
    "28"
    "68046805580100000031710f68074b03747110514b004b038571114b01857112896800295271137471145271155808"
    "00"
    "0000312e77656967687471166803282868046805580100000032711768074b03747118514b004b038571194b018571"
    "1a"
    "8968002952711b74711c52711d5806000000312e62696173711e6803282868046805580100000033711f68074b0374"
    "71"
    "20514b004b038571214b0185712289680029527123747124527125580e000000312e72756e6e696e675f6d65616e71"
    "26"
    "6803282868046805580100000034712768074b03747128514b004b038571294b0185712a8968002952712b74712c52"
    "71"
    "2d580d000000312e72756e6e696e675f766172712e6803282868046805580100000035712f68074b03747130514b00"
    "4b"
    "038571314b01857132896800295271337471345271355815000000312e6e756d5f626174636865735f747261636b65"
    "64"
    "713668032828680463746f7263680a4c6f6e6753746f726167650a7137580100000036713868074b01747139514b00"
    "29"
    "298968002952713a74713b52713c580a000000302e7765696768745f74713d6803282868046805680668074b067471"
    "3e"
    "514b004b024b0386713f4b014b0286714089680029527141747142527143757d714458090000005f6d657461646174"
    "61"
    "714568002952714628580000000071477d7148580700000076657273696f6e71494b0173580100000030714a7d714b"
    "68"
    "494b0173580100000031714c7d714d68494b02737573622e";

std::string python_pickle() {
  const std::string hex = kPythonPickleHex;
  std::string bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return bytes;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

template <typename F>
std::string data_error_of(F&& f) {
  try {
    f();
  } catch (const DataError& error) {
    return error.what();
  }
  return "(no DataError)";
}

TEST(StateDictPickle, ReadsTheOrderedDictPythonWrites) {
  const auto records = parse_state_dict_pickle(python_pickle(), "fixture");
  ASSERT_EQ(records.size(), 8u);
  const std::vector<std::string> names = {"0.weight",
                                          "0.bias",
                                          "1.weight",
                                          "1.bias",
                                          "1.running_mean",
                                          "1.running_var",
                                          "1.num_batches_tracked",
                                          "0.weight_t"};
  for (std::size_t i = 0; i < names.size(); ++i) EXPECT_EQ(records[i].name, names[i]);
  EXPECT_EQ(records[0].storage_key, "0");
  EXPECT_EQ(records[0].type, StorageType::float32);
  EXPECT_EQ(records[0].storage_numel, 6);
  EXPECT_EQ(records[0].sizes, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(records[0].strides, (std::vector<int64_t>{2, 1}));
  // The transposed view: the same storage, strides swapped.
  EXPECT_EQ(records[7].storage_key, "0");
  EXPECT_EQ(records[7].sizes, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(records[7].strides, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(records[6].type, StorageType::int64);
  EXPECT_TRUE(records[6].sizes.empty());
  EXPECT_EQ(records[6].storage_numel, 1);
}

TEST(StateDictPickle, EveryTruncationIsADataError) {
  const auto bytes = python_pickle();
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    const auto message =
        data_error_of([&] { parse_state_dict_pickle(bytes.substr(0, length), "cut.pkl"); });
    EXPECT_EQ(message.rfind("cut.pkl: ", 0), 0u) << "length " << length << ": " << message;
  }
}

TEST(StateDictPickle, ATensorPastItsStorageIsRefused) {
  // The first storage ('0', 6 floats) declared 5 long: 0.weight reads element 5.
  auto bytes = python_pickle();
  const auto at = bytes.find(std::string("cpu") + "q\x07K\x06");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 6] = 5;
  EXPECT_NE(data_error_of([&] {
              parse_state_dict_pickle(bytes, "f");
            }).find("reads element 5 of a storage of 5"),
            std::string::npos);
}

TEST(StateDictPickle, RefusesCodeOtherThanTensors) {
  // GLOBAL os.system, then REDUCE: what a malicious pickle would run.
  const char pickle[] =
      "\x80\x02"
      "cos\nsystem\n"
      "X\x02\x00\x00\x00ls"
      "\x85R.";
  const std::string bytes(pickle, sizeof pickle - 1);
  EXPECT_NE(
      data_error_of([&] { parse_state_dict_pickle(bytes, "evil.pt"); }).find("it calls os.system"),
      std::string::npos);
}

NamedTensors sample_tensors() {
  return {{"a.weight", torch::arange(12, torch::kFloat32).reshape({3, 4})},
          {"a.bias", torch::tensor({0.5f, -1.5f, 2.0f})},
          {"bn.num_batches_tracked", torch::tensor(int64_t{42})},
          {"empty", torch::zeros({0, 5})}};
}

TEST(StateDictFile, WhatItWritesReadsBackTheSame) {
  testing::TempDir dir;
  const auto path = dir.file("sd.pt");
  const auto tensors = sample_tensors();
  write_state_dict(path, tensors);
  const auto back = read_state_dict(path);
  ASSERT_EQ(back.size(), tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_EQ(back[i].first, tensors[i].first);
    EXPECT_EQ(back[i].second.scalar_type(), tensors[i].second.scalar_type()) << back[i].first;
    EXPECT_TRUE(torch::equal(back[i].second, tensors[i].second)) << back[i].first;
  }
}

TEST(StateDictFile, TruncatedCorruptOrForeignFilesAreNamedDataErrors) {
  testing::TempDir dir;
  const auto path = dir.file("sd.pt");
  write_state_dict(path, sample_tensors());
  const auto bytes = testing::read_all(path);
  const auto cut = dir.file("cut.pt");
  for (std::size_t length : {std::size_t{0}, std::size_t{3}, std::size_t{30}, bytes.size() / 2,
                             bytes.size() - 23, bytes.size() - 1}) {
    write_bytes(cut, bytes.substr(0, length));
    const auto message = data_error_of([&] { read_state_dict(cut); });
    EXPECT_EQ(message.rfind(cut + ": ", 0), 0u) << "length " << length << ": " << message;
  }
  // A flipped byte in the first storage (a.weight's floats): the entry's CRC-32.
  auto flipped = bytes;
  const auto storage = flipped.find(std::string("\x00\x00\x80\x3f", 4));  // 1.0f, a.weight[0][1]
  ASSERT_NE(storage, std::string::npos);
  flipped[storage + 3] ^= 0x40;
  write_bytes(cut, flipped);
  EXPECT_NE(data_error_of([&] { read_state_dict(cut); }).find("CRC-32"), std::string::npos);
  write_bytes(cut, "not a zip archive at all");
  EXPECT_NE(data_error_of([&] { read_state_dict(cut); }).find("not a zip archive"),
            std::string::npos);
  EXPECT_NE(data_error_of([&] { read_state_dict(dir.file("absent.pt")); }).find("cannot open"),
            std::string::npos);
}

TEST(StateDictFile, AnyByteOfTheDirectoryFlippedIsReadOrADataError) {
  testing::TempDir dir;
  const auto path = dir.file("sd.pt");
  write_state_dict(path, sample_tensors());
  const auto bytes = testing::read_all(path);
  const auto damaged = dir.file("damaged.pt");
  // The central directory and end records: offsets, sizes, counts, names.
  for (std::size_t at = bytes.size() > 600 ? bytes.size() - 600 : 0; at < bytes.size(); ++at) {
    auto copy = bytes;
    copy[at] = static_cast<char>(copy[at] ^ 0xFF);
    write_bytes(damaged, copy);
    try {
      read_state_dict(damaged);
    } catch (const DataError&) {
    } catch (const std::exception& error) {
      ADD_FAILURE() << "byte " << at << ": not a DataError: " << error.what();
    }
  }
}

std::shared_ptr<Model> mlp(int64_t classes, uint64_t seed) {
  torch::manual_seed(seed);
  return make_model("mlp", {1, 28, 28}, classes);
}

NamedTensors copies(torch::nn::Module& model) {
  NamedTensors out;
  for (const auto& [name, tensor] : named_state(model)) out.emplace_back(name, tensor.clone());
  return out;
}

TEST(NamedState, LoadsAnotherModelsStateStrictly) {
  auto source = mlp(10, 1), target = mlp(10, 2);
  const auto state = copies(*source);
  load_named_state(*target, state, "f");
  const auto loaded = named_state(*target);
  ASSERT_EQ(loaded.size(), state.size());
  for (std::size_t i = 0; i < state.size(); ++i)
    EXPECT_TRUE(torch::equal(loaded[i].second, state[i].second)) << state[i].first;
}

TEST(NamedState, NamesWhatIsMissingUnexpectedOrMisshaped) {
  auto model = mlp(10, 1);
  auto renamed = copies(*model);
  const auto first = renamed.front().first;
  renamed.front().first = "features." + first;
  const auto message = data_error_of([&] { load_named_state(*model, renamed, "renamed.pt"); });
  EXPECT_EQ(message.rfind("renamed.pt: ", 0), 0u) << message;
  EXPECT_NE(message.find("missing 1 of the model's tensors: " + first), std::string::npos)
      << message;
  EXPECT_NE(message.find("names the model does not have: features." + first), std::string::npos)
      << message;

  auto misshaped = copies(*model);
  misshaped.front().second = torch::zeros({3, 3});
  const auto shape = data_error_of([&] { load_named_state(*model, misshaped, "shape.pt"); });
  EXPECT_NE(shape.find(first + " has shape [3, 3] in the file"), std::string::npos) << shape;
}

TEST(NamedState, AClassifierOfAnotherWidthIsAClassCountError) {
  auto five = mlp(5, 1), ten = mlp(10, 1);
  const auto message = data_error_of([&] { load_named_state(*ten, copies(*five), "five.pt"); });
  EXPECT_NE(message.find("the file's model has 5 classes, this one 10"), std::string::npos)
      << message;
}

TEST(NamedState, ResNetNamesAreTorchvisions) {
  torch::manual_seed(0);
  auto model = make_model("resnet18", {3, 224, 224}, 1000);
  const auto state = named_state(*model);
  ASSERT_EQ(state.size(), 122u);  // torchvision resnet18().state_dict(): 122 entries
  EXPECT_EQ(state[0].first, "conv1.weight");
  EXPECT_EQ(state[1].first, "bn1.weight");
  EXPECT_EQ(state[5].first, "bn1.num_batches_tracked");
  EXPECT_EQ(state[6].first, "layer1.0.conv1.weight");
  const auto has = [&](const std::string& name) {
    for (const auto& entry : state)
      if (entry.first == name) return true;
    return false;
  };
  EXPECT_TRUE(has("layer2.0.downsample.0.weight"));
  EXPECT_TRUE(has("layer2.0.downsample.1.running_var"));
  EXPECT_EQ(state.back().first, "fc.bias");
  EXPECT_EQ(state[0].second.sizes().vec(), (std::vector<int64_t>{64, 3, 7, 7}));
}

}  // namespace
}  // namespace distsgd::models
