// Element types and devices (defined in kernels/base.h, re-exported here), and the map from
// C++ element types to DType that the engine's typed accessors use.
#pragma once
#include "kernels/base.h"

namespace loco {

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::f32; }
template <> constexpr DType dtype_of<double>() { return DType::f64; }
template <> constexpr DType dtype_of<int64_t>() { return DType::i64; }
template <> constexpr DType dtype_of<int32_t>() { return DType::i32; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::u8; }

}  // namespace loco
