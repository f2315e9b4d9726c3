// --dataset image-folder as a user runs it: folders of JPEGs made from
// Fashion-MNIST at test time (make_image_folder.py, Debian's Python with
// Pillow), real mpirun jobs of the distsgd command.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "e2e_util.hpp"
#include "train/checkpoint.hpp"

namespace distsgd::testing {
namespace {

namespace fs = std::filesystem;

std::string image_folder(const std::string& name, int train, int val, int size = 32) {
  const auto dir = make_temp_dir(name);
  const auto made = run_shell("/usr/bin/python3 " DISTSGD_TESTS_DIR "/make_image_folder.py " + dir +
                                  " --train " + std::to_string(train) + " --val " +
                                  std::to_string(val) + " --size " + std::to_string(size),
                              120);
  EXPECT_EQ(made.exit_code, 0) << made.output;
  return dir;
}

// Keeps only the class folders named in `keep`.
void keep_classes(const std::string& dir, const std::vector<std::string>& keep) {
  for (const char* split : {"train", "val"})
    for (const auto& entry : fs::directory_iterator(dir + "/" + split))
      if (std::find(keep.begin(), keep.end(), entry.path().filename()) == keep.end())
        fs::remove_all(entry.path());
}

std::string first_file(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  return files.at(0);
}

TEST(ImageFolderE2E, Resnet20TrainsOnTwoRanks) {
  const auto data = image_folder("folder32", 3000, 1000);
  const auto log = make_temp_dir("log");
  const auto run = run_distsgd(
      2, "train --dataset image-folder --data-dir " + data +
             " --image-size 32 --model resnet20 --epochs 4 --batch-size 32 --lr 0.1 --momentum 0.9"
             " --loader-threads 1 --checkpoint-every 0 --quiet --log-dir " + log,
      300);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto summary = read_json(log + "/summary.json");
  EXPECT_GE(summary.at("final_test_accuracy").get<double>(), 0.6) << summary.dump(2);
  EXPECT_EQ(summary.at("bad_images_skipped"), 0);
  EXPECT_EQ(summary.at("config").at("image_size"), 32);
}

TEST(ImageFolderE2E, Resnet50StepsAt224) {
  const auto data = image_folder("folder224", 200, 50, 64);
  keep_classes(data, {"bag", "boot"});
  const auto log = make_temp_dir("log");
  const auto run = run_distsgd(
      1, "train --dataset image-folder --data-dir " + data +
             " --image-size 224 --model resnet50 --max-steps 2 --batch-size 2 --eval-batch-size 2"
             " --checkpoint-every 0 --quiet --log-dir " + log,
      300);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto summary = read_json(log + "/summary.json");
  EXPECT_EQ(summary.at("steps"), 2) << summary.dump(2);
}

// 16 training images in 2 classes: on 2 ranks with batch 4 every image is
// used once an epoch, the bad one too.
std::string small_folder(const std::string& name) {
  const auto data = image_folder(name, 400, 100);
  keep_classes(data, {"bag", "boot"});
  for (const char* cls : {"bag", "boot"}) {
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(data + "/train/" + cls))
      files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
    for (std::size_t i = 8; i < files.size(); ++i) fs::remove(files[i]);
  }
  return data;
}

TEST(ImageFolderE2E, CorruptFileFailsNamingItOrIsSkippedAndCounted) {
  const auto data = small_folder("corrupt");
  const auto bad = first_file(data + "/train/boot");
  fs::resize_file(bad, fs::file_size(bad) / 3);  // truncated
  const std::string args = "train --dataset image-folder --data-dir " + data +
                           " --image-size 32 --model cnn --epochs 2 --batch-size 4"
                           " --checkpoint-every 0 --quiet --log-dir ";
  const auto failed = run_distsgd(2, args + make_temp_dir("log"), 120);
  EXPECT_EQ(failed.exit_code, 2) << failed.output;
  EXPECT_NE(failed.output.find(bad), std::string::npos) << failed.output;

  const auto log = make_temp_dir("log");
  const auto skipped = run_distsgd(2, args + log + " --bad-images skip", 120);
  ASSERT_EQ(skipped.exit_code, 0) << skipped.output;
  // Used once in each of the 2 epochs, replaced each time.
  EXPECT_EQ(read_json(log + "/summary.json").at("bad_images_skipped"), 2);
}

TEST(ImageFolderE2E, MissingValFolderFailsClearly) {
  const auto data = small_folder("noval");
  fs::remove_all(data + "/val");
  const auto run = run_distsgd(2, "train --dataset image-folder --data-dir " + data +
                                      " --image-size 32 --quiet --log-dir " + make_temp_dir("log"),
                               120);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find(data + "/val: no such folder"), std::string::npos) << run.output;
}

std::vector<float> final_params(const std::string& dir) {
  return read_checkpoint(dir + "/final.ckpt").tensors.at("params");
}

TEST(ImageFolderE2E, SameRunForAnyLoaderThreadsAndAfterResume) {
  const auto data = small_folder("threads");
  const std::string args = "train --dataset image-folder --data-dir " + data +
                           " --image-size 32 --model cnn --epochs 2 --batch-size 4 --quiet";
  std::vector<std::vector<float>> params;
  for (const char* threads : {"0", "3"}) {
    const auto log = make_temp_dir("log");
    const auto run = run_distsgd(2, args + " --loader-threads " + threads + " --log-dir " + log, 120);
    ASSERT_EQ(run.exit_code, 0) << run.output;
    params.push_back(final_params(log));
  }
  EXPECT_EQ(params[0], params[1]) << "--loader-threads changed the training";
  // Stopped after epoch 1 and resumed: the prefetch starts where the run stands.
  const auto log = make_temp_dir("log");
  ASSERT_EQ(run_distsgd(2, args + " --loader-threads 2 --stop-after-epoch 1 --log-dir " + log, 120)
                .exit_code,
            0);
  const auto resumed = run_distsgd(
      2, args + " --loader-threads 2 --resume " + log + "/checkpoint-epoch1.ckpt --log-dir " + log,
      120);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(final_params(log), params[0]) << "the resumed run trained on other batches";
}

}  // namespace
}  // namespace distsgd::testing
