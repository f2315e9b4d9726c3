#pragma once
// Synthetic data for throughput runs without a data set on disk: fixed random
// images and labels drawn from a seed, in the shape of CIFAR-10 (3x32x32, 10
// classes, 50000/10000 samples) or ImageNet (3x224x224, 1000 classes,
// 1281167/50000 samples).
//
// Only a small pool is stored and a sample's index is taken modulo the pool, so
// an "ImageNet" costs tens of megabytes while batches cost what real ones do.
#include <cstdint>
#include <string>

#include "data/dataset.hpp"

namespace distsgd::data {

// shape is "cifar" or "imagenet"; anything else throws ConfigError.
Datasets make_synthetic(const std::string& shape, uint64_t seed);

}  // namespace distsgd::data
