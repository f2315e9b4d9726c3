// The image folder data set: the torchvision ImageFolder numbering, labels
// without decoding, the transforms chosen by the seed, the same batches for
// any thread count, --bad-images, and every folder error.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "core/errors.hpp"
#include "data/image_folder.hpp"
#include "image_test_util.hpp"

namespace distsgd::data {
namespace {

namespace fs = std::filesystem;
using testing::contains;
using testing::message_of;
using testing::TempDir;
using testing::write_image_folder;

ImageFolderSpec spec(int threads = 0, BadImages bad = BadImages::error) {
  return {8, threads, bad};
}

TEST(ImageFolder, ClassesSortedFilesSortedOtherFilesIgnored) {
  TempDir dir;
  write_image_folder(dir.path(), {"zebra", "ant", "moth"}, 3);
  // Extensions in any case count; other files do not.
  fs::copy_file(dir.path() / "train/ant/img0.jpg", dir.path() / "train/ant/UPPER.JPEG");
  testing::write_raw(dir.file("train/ant/notes.txt"), {1, 2, 3});
  const auto sets = load_image_folder(dir.str(), spec());
  const auto& list = dynamic_cast<const ImageFolderDataset&>(*sets.train).list();
  EXPECT_EQ(list.classes, (std::vector<std::string>{"ant", "moth", "zebra"}));
  EXPECT_EQ(sets.train->size(), 10);
  EXPECT_EQ(sets.test->size(), 9);
  EXPECT_EQ(sets.train->num_classes(), 3);
  EXPECT_EQ(sets.train->shape().channels, 3);
  EXPECT_EQ(sets.train->shape().height, 8);
  EXPECT_EQ(sets.train->shape().width, 8);
  EXPECT_EQ(fs::path(list.files[0]).filename(), "UPPER.JPEG");  // 'U' < 'i'
  EXPECT_EQ(sets.train->labels(),
            (std::vector<int64_t>{0, 0, 0, 0, 1, 1, 1, 2, 2, 2}));
}

TEST(ImageFolder, LabelsComeFromTheFileListWithoutDecoding) {
  TempDir dir;
  write_image_folder(dir.path(), {"a", "b"}, 2);
  const auto sets = load_image_folder(dir.str(), spec());
  // Every file unreadable now: labels() still answers, batch() cannot.
  for (const auto& entry : fs::recursive_directory_iterator(dir.path()))
    if (entry.is_regular_file()) testing::write_raw(entry.path().string(), {0});
  EXPECT_EQ(sets.test->labels(), (std::vector<int64_t>{0, 0, 1, 1}));
  EXPECT_THROW(sets.test->batch(std::vector<int64_t>{0}), DataError);
}

TEST(ImageFolder, BatchDecodesEachSampleWithItsLabel) {
  TempDir dir;
  write_image_folder(dir.path(), {"a", "b", "c"}, 2);
  const auto sets = load_image_folder(dir.str(), spec());
  const auto batch = sets.test->batch(std::vector<int64_t>{5, 0, 2});
  EXPECT_EQ(batch.inputs.sizes(), (std::vector<int64_t>{3, 3, 8, 8}));
  EXPECT_EQ(batch.targets.to(torch::kInt64).data_ptr<int64_t>()[0], 2);
  EXPECT_EQ(batch.targets.data_ptr<int64_t>()[1], 0);
  EXPECT_EQ(batch.targets.data_ptr<int64_t>()[2], 1);
  // Class c's red is 40 * c + 20 (JPEG keeps a solid colour within a level).
  for (int k = 0; k < 3; ++k) {
    const int64_t label = batch.targets.data_ptr<int64_t>()[k];
    const float red = batch.inputs[k][0].mean().item<float>() * 0.229f + 0.485f;
    EXPECT_NEAR(red * 255, 40.0 * label + 20, 1.5) << k;
  }
  EXPECT_EQ(batch.replaced, 0);
}

TEST(ImageFolder, SameBatchesBitForBitForAnyThreadCount) {
  TempDir dir;
  // Varied images, so the random crops differ from sample to sample.
  for (const char* split : {"train", "val"})
    for (int c = 0; c < 2; ++c) {
      const auto folder = dir.path() / split / ("class" + std::to_string(c));
      fs::create_directories(folder);
      for (int i = 0; i < 6; ++i)
        testing::write_raw((folder / fmt::format("f{}.png", i)).string(),
                           testing::encode_png(testing::gradient_image(23 + i, 17 + c, i)));
    }
  const std::vector<int64_t> indices = {3, 11, 0, 7, 5, 9, 1};
  std::vector<Batch> batches;
  for (const int threads : {0, 1, 3}) {
    const auto sets = load_image_folder(dir.str(), spec(threads));
    batches.push_back(sets.train->batch(indices, 1234));
    batches.push_back(sets.train->batch(indices));  // val transforms
  }
  for (std::size_t i = 2; i < batches.size(); ++i) {
    EXPECT_TRUE(torch::equal(batches[i].inputs, batches[i % 2].inputs)) << i;
    EXPECT_TRUE(torch::equal(batches[i].targets, batches[i % 2].targets)) << i;
  }
  // The seed does choose: another seed, other crops; no seed, the val crop.
  const auto sets = load_image_folder(dir.str(), spec(2));
  EXPECT_FALSE(torch::equal(sets.train->batch(indices, 1235).inputs, batches[0].inputs));
  EXPECT_FALSE(torch::equal(batches[0].inputs, batches[1].inputs));
  // A sample's crop does not depend on the rest of its batch.
  const auto alone = sets.train->batch(std::vector<int64_t>{7}, 1234);
  EXPECT_TRUE(torch::equal(alone.inputs[0], batches[0].inputs[3]));
}

TEST(ImageFolder, BadImageStopsNamingTheFileOrIsReplacedAndCounted) {
  TempDir dir;
  write_image_folder(dir.path(), {"a", "b"}, 3);
  const auto bad = dir.file("train/a/img1.png");
  testing::write_raw(bad, {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0});
  {
    const auto sets = load_image_folder(dir.str(), spec(2));
    const auto msg = message_of<DataError>([&] { sets.train->batch(std::vector<int64_t>{0, 1}); });
    EXPECT_TRUE(contains(msg, bad)) << msg;
  }
  const auto sets = load_image_folder(dir.str(), spec(2, BadImages::skip));
  const auto batch = sets.train->batch(std::vector<int64_t>{0, 1, 4});
  EXPECT_EQ(batch.replaced, 1);
  // Sample 1 is replaced by sample 2 (the next index), its pixels and label.
  const auto next = sets.train->batch(std::vector<int64_t>{2});
  EXPECT_TRUE(torch::equal(batch.inputs[1], next.inputs[0]));
  EXPECT_EQ(batch.targets[1].item<int64_t>(), next.targets[0].item<int64_t>());
  // The last file bad: replaced by the first (modulo the size).
  testing::write_raw(dir.file("train/b/img2.jpg"), {0xFF, 0xD8, 0xFF, 0xE0});
  const auto wrapped = load_image_folder(dir.str(), spec(0, BadImages::skip))
                           .train->batch(std::vector<int64_t>{5});
  EXPECT_EQ(wrapped.replaced, 1);
  EXPECT_EQ(wrapped.targets[0].item<int64_t>(), 0);
}

TEST(ImageFolder, FolderErrorsNameThePath) {
  TempDir dir;
  auto msg = message_of<DataError>([&] { load_image_folder(dir.str(), spec()); });
  EXPECT_TRUE(contains(msg, dir.str() + "/train") && contains(msg, "no such folder")) << msg;

  write_image_folder(dir.path(), {"a", "b"}, 1);
  fs::remove_all(dir.path() / "val");
  msg = message_of<DataError>([&] { load_image_folder(dir.str(), spec()); });
  EXPECT_TRUE(contains(msg, dir.str() + "/val")) << msg;

  write_image_folder(dir.path(), {"a", "b"}, 1);
  fs::create_directories(dir.path() / "val/stranger");
  fs::copy_file(dir.path() / "val/a/img0.jpg", dir.path() / "val/stranger/x.jpg");
  msg = message_of<DataError>([&] { load_image_folder(dir.str(), spec()); });
  EXPECT_TRUE(contains(msg, "val/stranger") && contains(msg, "not one of the training classes"))
      << msg;
  fs::remove_all(dir.path() / "val/stranger");

  fs::create_directories(dir.path() / "train/empty");
  testing::write_raw(dir.file("train/empty/readme.txt"), {1});
  msg = message_of<DataError>([&] { load_image_folder(dir.str(), spec()); });
  EXPECT_TRUE(contains(msg, "train/empty") && contains(msg, "empty class folder")) << msg;
  fs::remove_all(dir.path() / "train/empty");

  fs::create_directories(dir.path() / "other/train");
  msg = message_of<DataError>([&] { load_image_folder(dir.str() + "/other", spec()); });
  EXPECT_TRUE(contains(msg, "no class folders")) << msg;

  EXPECT_THROW(load_image_folder("", spec()), ConfigError);
}

// Root reads any folder: as root, the scan runs in a child process that has
// become `nobody`, and reports through its exit code.
TEST(ImageFolder, UnreadableFolderIsADataError) {
  TempDir dir;
  write_image_folder(dir.path(), {"a"}, 1);
  fs::permissions(dir.path() / "train/a", fs::perms::none);
  auto scan = [&] {
    return message_of<DataError>([&] { load_image_folder(dir.str(), spec()); });
  };
  auto expected = [](const std::string& msg) {
    return contains(msg, "train/a") && contains(msg, "cannot be read");
  };
  if (geteuid() != 0) {
    const auto msg = scan();
    EXPECT_TRUE(expected(msg)) << msg;
  } else {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      if (setgid(65534) != 0 || setuid(65534) != 0) _exit(3);
      _exit(expected(scan()) ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "1: another message; 3: could not become nobody";
  }
  fs::permissions(dir.path() / "train/a", fs::perms::owner_all);
}

TEST(ImageFolder, IndexOutsideTheSetIsAnError) {
  TempDir dir;
  write_image_folder(dir.path(), {"a"}, 2);
  const auto sets = load_image_folder(dir.str(), spec());
  EXPECT_THROW(sets.train->batch(std::vector<int64_t>{2}), std::out_of_range);
}

}  // namespace
}  // namespace distsgd::data
