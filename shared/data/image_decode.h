// Decodes one PNG or JPEG file held in memory into 8-bit pixels, the way TensorFlow's
// tf.image.decode_image does for image_dataset_from_directory (docs/design/keras-semantics.md
// §4.2): JPEG through TurboJPEG with the fast integer IDCT and fancy upsampling, PNG through
// libspng with alpha dropped, 16-bit kept by its high byte and RGB -> gray with libpng's
// fixed-point 0.299/0.587 weights. The format is told by the content, not by the file name.
// Thread safety: free functions without shared state; call from any thread.
// Errors: InvalidArgument naming `name` (the file) for unknown formats and corrupt data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shared/status.h"

namespace cloudbook {

struct DecodedImage {
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 0;         // 1 (grayscale) or 3 (RGB)
  std::vector<uint8_t> pixels;  // height x width x channels, row-major (HWC)
};

enum class ImageFormat { kUnknown, kPng, kJpeg, kGif, kBmp };

// The format the first bytes of a file announce.
ImageFormat SniffImageFormat(const std::string& bytes);

// Decodes `bytes` to `channels` (1 or 3) channels. `name` is used in messages only.
// Images wider or taller than `max_side` pixels are refused (untrusted input).
Result<DecodedImage> DecodeImage(const std::string& bytes, int64_t channels,
                                 const std::string& name, int64_t max_side = 1 << 15);

// libpng's png_do_rgb_to_gray for 8-bit samples without gamma, with the weights TF sets
// (png_set_rgb_to_gray(png, 1, 0.299, 0.587)): equal samples are copied, others get
// (9797 r + 19234 g + 3737 b) >> 15.
uint8_t RgbToGrayLibpng(uint8_t r, uint8_t g, uint8_t b);

}  // namespace cloudbook
