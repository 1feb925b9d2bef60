#include "shared/data/image_decode.h"

#include <spng.h>
#include <turbojpeg.h>

#include <cstring>
#include <memory>

namespace cloudbook {

namespace {

// libpng png_set_rgb_to_gray_fixed (pngrtran.c) with TF's 0.299 / 0.587 (png_io.cc
// CommonInitDecode): red_int = 29900 * 32768 / 100000, green_int likewise, truncated; blue
// gets the rest of 32768 (png_do_rgb_to_gray).
constexpr uint32_t kRedCoeff = 29900u * 32768u / 100000u;    // 9797
constexpr uint32_t kGreenCoeff = 58700u * 32768u / 100000u;  // 19234
constexpr uint32_t kBlueCoeff = 32768u - kRedCoeff - kGreenCoeff;

// The 16-bit branch of png_do_rgb_to_gray without gamma, then png_set_strip_16 (high byte).
uint8_t RgbToGray16(uint16_t r, uint16_t g, uint16_t b) {
  const uint32_t gray16 =
      (r == g && r == b) ? r : (kRedCoeff * r + kGreenCoeff * g + kBlueCoeff * b) >> 15;
  return static_cast<uint8_t>(gray16 >> 8);
}

Status Corrupt(const std::string& name, const std::string& what, const std::string& detail) {
  return Status::InvalidArgument(name + ": not a readable " + what + " image (" + detail + ")");
}

Status CheckSize(const std::string& name, int64_t width, int64_t height, int64_t max_side) {
  if (width <= 0 || height <= 0 || width > max_side || height > max_side) {
    return Status::InvalidArgument(name + ": image size " + std::to_string(width) + "x" +
                                   std::to_string(height) + " is outside 1.." +
                                   std::to_string(max_side) + " pixels per side");
  }
  return Status::Ok();
}

// TF decode_image(channels=1|3) on a JPEG: libjpeg-turbo, dct_method "" = JDCT_IFAST,
// fancy upsampling on; channels=1 asks libjpeg for its grayscale output (the luma plane).
Result<DecodedImage> DecodeJpeg(const std::string& bytes, int64_t channels, const std::string& name,
                                int64_t max_side) {
  std::unique_ptr<void, int (*)(tjhandle)> handle(tjInitDecompress(), tjDestroy);
  if (!handle) return Status::Internal("TurboJPEG: cannot create a decompressor");
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(handle.get(), data, bytes.size(), &width, &height, &subsampling,
                          &colorspace) != 0) {
    return Corrupt(name, "JPEG", tjGetErrorStr2(handle.get()));
  }
  CB_RETURN_IF_ERROR(CheckSize(name, width, height, max_side));
  if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK) {
    return Status::InvalidArgument(name +
                                   ": CMYK/YCCK JPEG images are not supported; convert "
                                   "it to RGB or grayscale");
  }
  DecodedImage image;
  image.height = height;
  image.width = width;
  image.channels = channels;
  image.pixels.resize(static_cast<size_t>(width) * height * channels);
  const int format = channels == 1 ? TJPF_GRAY : TJPF_RGB;
  if (tjDecompress2(handle.get(), data, bytes.size(), image.pixels.data(), width, 0, height, format,
                    TJFLAG_FASTDCT) != 0) {
    // Warnings (e.g. a truncated scan) are errors too: TF fails on them as well.
    return Corrupt(name, "JPEG", tjGetErrorStr2(handle.get()));
  }
  return image;
}

// TF decode_image on a PNG (png_io.cc): alpha stripped, palette and gray expanded to RGB,
// 16-bit reduced to the high byte, RGB -> gray by libpng's fixed-point formula; no gamma.
Result<DecodedImage> DecodePng(const std::string& bytes, int64_t channels, const std::string& name,
                               int64_t max_side) {
  std::unique_ptr<spng_ctx, void (*)(spng_ctx*)> ctx(spng_ctx_new(0), spng_ctx_free);
  if (!ctx) return Status::Internal("libspng: cannot create a decoder");
  spng_set_image_limits(ctx.get(), static_cast<uint32_t>(max_side),
                        static_cast<uint32_t>(max_side));
  spng_set_chunk_limits(ctx.get(), 1u << 26, 1u << 26);
  int err = spng_set_png_buffer(ctx.get(), bytes.data(), bytes.size());
  spng_ihdr ihdr{};
  if (err == 0) err = spng_get_ihdr(ctx.get(), &ihdr);
  if (err != 0) return Corrupt(name, "PNG", spng_strerror(err));
  CB_RETURN_IF_ERROR(CheckSize(name, ihdr.width, ihdr.height, max_side));
  DecodedImage image;
  image.height = ihdr.height;
  image.width = ihdr.width;
  image.channels = channels;
  const size_t pixels = static_cast<size_t>(ihdr.width) * ihdr.height;
  image.pixels.resize(pixels * channels);
  const bool gray_source = ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE;
  if (ihdr.bit_depth == 16) {
    std::vector<uint16_t> wide(pixels * 4);
    err = spng_decode_image(ctx.get(), wide.data(), wide.size() * 2, SPNG_FMT_RGBA16, 0);
    if (err != 0) return Corrupt(name, "PNG", spng_strerror(err));
    for (size_t i = 0; i < pixels; ++i) {
      const uint16_t* p = &wide[i * 4];
      if (channels == 1) {
        image.pixels[i] = RgbToGray16(p[0], p[1], p[2]);
      } else {
        for (int c = 0; c < 3; ++c) image.pixels[i * 3 + c] = static_cast<uint8_t>(p[c] >> 8);
      }
    }
    return image;
  }
  if (channels == 1 && gray_source) {
    err = spng_decode_image(ctx.get(), image.pixels.data(), image.pixels.size(), SPNG_FMT_G8, 0);
    if (err != 0) return Corrupt(name, "PNG", spng_strerror(err));
    return image;
  }
  std::vector<uint8_t> rgb(channels == 3 ? 0 : pixels * 3);
  uint8_t* out = channels == 3 ? image.pixels.data() : rgb.data();
  err = spng_decode_image(ctx.get(), out, pixels * 3, SPNG_FMT_RGB8, 0);
  if (err != 0) return Corrupt(name, "PNG", spng_strerror(err));
  if (channels == 1) {
    for (size_t i = 0; i < pixels; ++i) {
      image.pixels[i] = RgbToGrayLibpng(rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]);
    }
  }
  return image;
}

}  // namespace

uint8_t RgbToGrayLibpng(uint8_t r, uint8_t g, uint8_t b) {
  if (r == g && r == b) return r;
  return static_cast<uint8_t>((kRedCoeff * r + kGreenCoeff * g + kBlueCoeff * b) >> 15);
}

ImageFormat SniffImageFormat(const std::string& bytes) {
  static const char kPng[] = "\x89PNG\r\n\x1a\n";
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), kPng, 8) == 0) return ImageFormat::kPng;
  if (bytes.size() >= 3 && static_cast<unsigned char>(bytes[0]) == 0xFF &&
      static_cast<unsigned char>(bytes[1]) == 0xD8 &&
      static_cast<unsigned char>(bytes[2]) == 0xFF) {
    return ImageFormat::kJpeg;
  }
  if (bytes.compare(0, 4, "GIF8") == 0) return ImageFormat::kGif;
  if (bytes.compare(0, 2, "BM") == 0) return ImageFormat::kBmp;
  return ImageFormat::kUnknown;
}

Result<DecodedImage> DecodeImage(const std::string& bytes, int64_t channels,
                                 const std::string& name, int64_t max_side) {
  if (channels != 1 && channels != 3) {
    return Status::InvalidArgument(name + ": images decode to 1 or 3 channels, not " +
                                   std::to_string(channels));
  }
  switch (SniffImageFormat(bytes)) {
    case ImageFormat::kPng:
      return DecodePng(bytes, channels, name, max_side);
    case ImageFormat::kJpeg:
      return DecodeJpeg(bytes, channels, name, max_side);
    case ImageFormat::kGif:
    case ImageFormat::kBmp:
      return Status::InvalidArgument(name +
                                     ": GIF and BMP images are not supported (only PNG and "
                                     "JPEG); convert the file or remove it from the folder");
    case ImageFormat::kUnknown:
      break;
  }
  return Status::InvalidArgument(name + ": not a PNG or JPEG image (" +
                                 std::to_string(bytes.size()) +
                                 " bytes, unknown signature); remove it from the folder");
}

}  // namespace cloudbook
