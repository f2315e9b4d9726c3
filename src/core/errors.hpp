#pragma once
// The error types are part of the library's contract (include/distsgd/), so
// they are defined there; code inside src/ includes them through this header.
#include "distsgd/errors.hpp"
