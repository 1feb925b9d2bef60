// Bilinear resize of 8-bit HWC pixels to float, as tf.image.resize(method="bilinear",
// antialias=False) computes it (half-pixel centres; docs/design/keras-semantics.md §4.3):
// TF's own formulas (image_resizer_state.h HalfPixelScaler, resize_bilinear_op.cc), so the
// values match TF bit for bit and torch's interpolate(bilinear, align_corners=False) to ~1 ulp.
// Thread safety: pure functions. Errors: none (sizes are checked by the caller, all > 0).
#pragma once

#include <cstdint>

namespace cloudbook {

// Writes out_height x out_width x channels floats (0..255, not rounded) to `out`.
void ResizeBilinearHalfPixel(const uint8_t* in, int64_t in_height, int64_t in_width,
                             int64_t channels, float* out, int64_t out_height, int64_t out_width);

}  // namespace cloudbook
