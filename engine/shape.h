// Shape: the dimensions of a contiguous row-major tensor, with printing for error messages.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

#include "engine/check.h"

namespace loco {

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> d) : dims_(d) {}
  explicit Shape(std::vector<int64_t> d) : dims_(std::move(d)) {}

  int64_t ndim() const { return static_cast<int64_t>(dims_.size()); }
  int64_t operator[](int64_t i) const { return dims_[static_cast<size_t>(i < 0 ? i + ndim() : i)]; }
  int64_t& operator[](int64_t i) { return dims_[static_cast<size_t>(i < 0 ? i + ndim() : i)]; }
  // Checked: a shape read from a file can hold dimensions whose product wraps around int64,
  // and a wrapped count would size a buffer smaller than the loops that fill it.
  int64_t numel() const {
    for (auto d : dims_)
      if (d == 0) return 0;
    int64_t n = 1;
    for (auto d : dims_)
      LOCO_CHECK(d >= 0 && !__builtin_mul_overflow(n, d, &n), "shape ", str(), ": ",
                 d < 0 ? "a negative dimension" : "more elements than an int64 counts");
    return n;
  }
  const std::vector<int64_t>& dims() const { return dims_; }
  bool operator==(const Shape& o) const { return dims_ == o.dims_; }
  bool operator!=(const Shape& o) const { return dims_ != o.dims_; }
  std::string str() const {
    std::string s = "[";
    for (size_t i = 0; i < dims_.size(); ++i) s += (i ? "," : "") + std::to_string(dims_[i]);
    return s + "]";
  }

 private:
  std::vector<int64_t> dims_;
};

inline std::ostream& operator<<(std::ostream& o, const Shape& s) { return o << s.str(); }

}  // namespace loco
