#pragma once
// CIFAR-10 in its binary version: data_batch_1..5.bin (training, 50000 images)
// and test_batch.bin (10000), each a run of 3073-byte records: one label byte,
// then a 3x32x32 image stored channel by channel.
//
// The training part augments (random 32x32 crop of the image padded by 4, and a
// horizontal flip) when batch() is given a seed; the test part never does.
#include <string>

#include "data/cifar10_records.hpp"
#include "data/dataset.hpp"
#include "data/uint8_dataset.hpp"

namespace distsgd::data {

// Appends one file's records (through append_cifar10_records); DataError names
// the file if it is missing, its size is not a positive multiple of 3073, or a
// label is above 9.
void append_cifar10_file(const std::string& path, Uint8Samples& into);

Datasets load_cifar10(const std::string& dir);

}  // namespace distsgd::data
