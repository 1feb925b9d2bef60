#include "shared/data/image_resize.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace cloudbook {

namespace {

// tensorflow/core/kernels/image/resize_bilinear_op.cc compute_interpolation_weights with
// HalfPixelScaler and CalculateResizeScale(align_corners=false).
struct Weight {
  int64_t lower;
  int64_t upper;
  float lerp;
};

std::vector<Weight> Weights(int64_t in_size, int64_t out_size) {
  const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
  std::vector<Weight> weights(static_cast<size_t>(out_size));
  for (int64_t i = 0; i < out_size; ++i) {
    const float in = (static_cast<float>(i) + 0.5f) * scale - 0.5f;
    const float in_floor = std::floor(in);
    weights[i].lower = std::max(static_cast<int64_t>(in_floor), int64_t{0});
    weights[i].upper = std::min(static_cast<int64_t>(std::ceil(in)), in_size - 1);
    weights[i].lerp = in - in_floor;
  }
  return weights;
}

}  // namespace

void ResizeBilinearHalfPixel(const uint8_t* in, int64_t in_height, int64_t in_width,
                             int64_t channels, float* out, int64_t out_height, int64_t out_width) {
  if (in_height == out_height && in_width == out_width) {  // scale 1: TF's op is the identity
    for (int64_t i = 0; i < in_height * in_width * channels; ++i) out[i] = in[i];
    return;
  }
  const std::vector<Weight> ys = Weights(in_height, out_height);
  const std::vector<Weight> xs = Weights(in_width, out_width);
  const int64_t row = in_width * channels;
  for (int64_t y = 0; y < out_height; ++y) {
    const uint8_t* top_row = in + ys[y].lower * row;
    const uint8_t* bottom_row = in + ys[y].upper * row;
    const float y_lerp = ys[y].lerp;
    for (int64_t x = 0; x < out_width; ++x) {
      const int64_t left = xs[x].lower * channels, right = xs[x].upper * channels;
      const float x_lerp = xs[x].lerp;
      for (int64_t c = 0; c < channels; ++c) {
        const float top_left = top_row[left + c], top_right = top_row[right + c];
        const float bottom_left = bottom_row[left + c], bottom_right = bottom_row[right + c];
        const float top = top_left + (top_right - top_left) * x_lerp;
        const float bottom = bottom_left + (bottom_right - bottom_left) * x_lerp;
        *out++ = top + (bottom - top) * y_lerp;
      }
    }
  }
}

}  // namespace cloudbook
