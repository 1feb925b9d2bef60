// Image decoding and resizing against independent references: PNG through libpng itself with
// the transformations TF's png_io.cc sets (png_set_rgb_to_gray(1, 0.299, 0.587),
// png_set_strip_16, strip alpha), JPEG through the libjpeg API with TF's decode_jpeg settings
// (JDCT_IFAST, fancy upsampling), and the resize against torch's F.interpolate(bilinear,
// align_corners=False, antialias=False) run by /usr/bin/python3. Test files are written by PIL.
#include "shared/data/image_decode.h"

#include <gtest/gtest.h>
#include <jpeglib.h>
#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <sstream>

#include "shared/atomic_file.h"
#include "shared/data/image_resize.h"
#include "tests/test_support.h"

namespace cloudbook {
namespace {

using testing::RunShell;
using testing::ScratchDir;

// Writes test images with PIL: a smooth colour gradient with noise in several PNG kinds and
// as a JPEG (4:2:0, quality 90).
void WriteImagesWithPil(const std::string& folder) {
  const std::string script = R"PY(
import sys, numpy as np
from PIL import Image
d = sys.argv[1]
h, w = 13, 17
y, x = np.mgrid[0:h, 0:w]
rng = np.random.RandomState(3)
rgb = np.stack([x * 15, y * 19, (x * y) % 256], -1) + rng.randint(0, 40, (h, w, 3))
rgb = np.clip(rgb, 0, 255).astype(np.uint8)
Image.fromarray(rgb, "RGB").save(d + "/rgb.png")
Image.fromarray(rgb[:, :, 1], "L").save(d + "/gray.png")
rgba = np.concatenate([rgb, rng.randint(0, 256, (h, w, 1)).astype(np.uint8)], -1)
Image.fromarray(rgba, "RGBA").save(d + "/rgba.png")
Image.fromarray(rgb, "RGB").convert("P", palette=Image.ADAPTIVE, colors=20).save(d + "/palette.png")
Image.fromarray((rgb[:, :, 0].astype(np.uint16) * 257 + 77).astype(np.uint16)).save(d + "/gray16.png")
Image.fromarray(rgb, "RGB").save(d + "/color.jpg", quality=90)
Image.fromarray(rgb[:, :, 2], "L").save(d + "/gray.jpg", quality=90)
noise = rng.randint(0, 256, (40, 48, 3)).astype(np.uint8)  # where IFAST and ISLOW differ
Image.fromarray(noise, "RGB").save(d + "/noise.jpg", quality=75)
)PY";
  WriteFileAtomically(folder + "/make.py", script);
  const auto result = RunShell("timeout 120 /usr/bin/python3 " + folder + "/make.py " + folder,
                               folder + "/make.err");
  ASSERT_EQ(result.exit_code, 0) << testing::ReadFileOrDie(folder + "/make.err");
}

struct Reference {
  int64_t height = 0, width = 0;
  std::vector<uint8_t> pixels;
};

// libpng as TF's png_io.cc CommonInitDecode drives it. False on a libpng error.
bool LibpngDecodeFile(FILE* file, int channels, Reference* out) {
  Reference& ref = *out;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_init_io(png, file);
  png_read_info(png, info);
  const int color = png_get_color_type(png, info);
  if (png_get_bit_depth(png, info) == 16) png_set_strip_16(png);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8) {
    png_set_expand_gray_1_2_4_to_8(png);
  }
  if (color & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
  const bool is_gray = color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA;
  if (channels == 3 && is_gray) png_set_gray_to_rgb(png);
  if (channels == 1 && !is_gray) png_set_rgb_to_gray(png, 1, 0.299, 0.587);
  png_read_update_info(png, info);
  ref.height = png_get_image_height(png, info);
  ref.width = png_get_image_width(png, info);
  ref.pixels.resize(ref.height * ref.width * channels);
  std::vector<png_bytep> rows(ref.height);
  for (int64_t r = 0; r < ref.height; ++r) rows[r] = ref.pixels.data() + r * ref.width * channels;
  png_read_image(png, rows.data());
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

Reference LibpngDecode(const std::string& path, int channels) {
  Reference ref;
  FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return ref;
  if (!LibpngDecodeFile(file, channels, &ref)) ref = Reference{};
  std::fclose(file);
  return ref;
}

// libjpeg as TF's decode_jpeg drives it (dct_method "" = JDCT_IFAST, fancy upsampling).
Reference LibjpegDecode(const std::string& path, int channels) {
  Reference ref;
  FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return ref;
  jpeg_decompress_struct cinfo;
  jpeg_error_mgr jerr;
  cinfo.err = jpeg_std_error(&jerr);
  jpeg_create_decompress(&cinfo);
  jpeg_stdio_src(&cinfo, file);
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  cinfo.dct_method = JDCT_IFAST;
  cinfo.do_fancy_upsampling = TRUE;
  jpeg_start_decompress(&cinfo);
  ref.height = cinfo.output_height;
  ref.width = cinfo.output_width;
  ref.pixels.resize(ref.height * ref.width * channels);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = ref.pixels.data() + cinfo.output_scanline * ref.width * channels;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  std::fclose(file);
  return ref;
}

class ImageDecodeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    folder_ = new ScratchDir();
    WriteImagesWithPil(folder_->path());
  }
  static void TearDownTestSuite() { delete folder_; }
  static std::string Path(const std::string& name) { return folder_->Join(name); }
  static inline ScratchDir* folder_ = nullptr;

  void ExpectSameAsReference(const std::string& name, int channels, const Reference& ref) {
    SCOPED_TRACE(name + " to " + std::to_string(channels) + " channel(s)");
    ASSERT_GT(ref.height, 0) << "the reference decoder failed";
    const Result<DecodedImage> image =
        DecodeImage(*ReadWholeFile(Path(name)), channels, Path(name));
    ASSERT_TRUE(image.ok()) << image.status().ToString();
    EXPECT_EQ(image->height, ref.height);
    EXPECT_EQ(image->width, ref.width);
    EXPECT_EQ(image->channels, channels);
    EXPECT_EQ(image->pixels, ref.pixels);
  }
};

TEST_F(ImageDecodeTest, PngMatchesLibpngWithTfTransformations) {
  for (const char* name : {"rgb.png", "gray.png", "rgba.png", "palette.png", "gray16.png"}) {
    for (int channels : {1, 3}) {
      ExpectSameAsReference(name, channels, LibpngDecode(Path(name), channels));
    }
  }
}

TEST_F(ImageDecodeTest, JpegMatchesLibjpegWithTfsFastIdct) {
  for (const char* name : {"color.jpg", "gray.jpg", "noise.jpg"}) {
    for (int channels : {1, 3}) {
      ExpectSameAsReference(name, channels, LibjpegDecode(Path(name), channels));
    }
  }
}

TEST_F(ImageDecodeTest, FormatComesFromTheContentNotTheName) {
  const std::string bytes = *ReadWholeFile(Path("color.jpg"));
  const Result<DecodedImage> image = DecodeImage(bytes, 3, "looks_like.png");
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(image->pixels, LibjpegDecode(Path("color.jpg"), 3).pixels);
}

TEST_F(ImageDecodeTest, CorruptAndUnknownFilesGetAnErrorNamingTheFile) {
  const std::string png = *ReadWholeFile(Path("rgb.png"));
  const std::string jpeg = *ReadWholeFile(Path("color.jpg"));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"truncated.png", png.substr(0, png.size() / 2)},
      {"truncated.jpg", jpeg.substr(0, jpeg.size() / 2)},
      {"text.png", "hello, not an image"},
      {"anim.gif", "GIF89a......"},
  };
  for (const auto& [name, bytes] : cases) {
    const Result<DecodedImage> image = DecodeImage(bytes, 3, "/data/cats/" + name);
    ASSERT_FALSE(image.ok()) << name;
    EXPECT_NE(image.status().message().find("/data/cats/" + name), std::string::npos)
        << image.status().message();
  }
}

TEST(RgbToGrayLibpng, UsesTfsFixedPointWeights) {
  // (9797 r + 19234 g + 3737 b) >> 15, equal samples copied (pngrtran.c).
  EXPECT_EQ(RgbToGrayLibpng(255, 0, 0), 76);   // 2498235 >> 15
  EXPECT_EQ(RgbToGrayLibpng(0, 255, 0), 149);  // 4904670 >> 15
  EXPECT_EQ(RgbToGrayLibpng(0, 0, 255), 29);   // 952935 >> 15
  EXPECT_EQ(RgbToGrayLibpng(200, 200, 200), 200);
  EXPECT_EQ(RgbToGrayLibpng(255, 255, 254), 254);  // 8355585 >> 15 = 254.99
}

// torch.nn.functional.interpolate(mode="bilinear", align_corners=False, antialias=False) with
// an explicit size: the same two source pixels and weights as tf.image.resize (keras-semantics
// §4.3). Torch weighs the four pixels in another order (and rounds its weights differently),
// so values agree to float rounding: 1e-3 on 0..255, far below a wrong pixel or weight.
TEST(ResizeBilinearHalfPixel, MatchesTorchInterpolate) {
  struct Case {
    int64_t in_h, in_w, c, out_h, out_w;
  };
  const std::vector<Case> cases = {Case{5, 7, 3, 3, 4}, Case{4, 3, 1, 9, 5},
                                   Case{28, 28, 1, 20, 33}, Case{6, 6, 3, 6, 6}};
  std::ostringstream script;
  script << "import torch\n"
         << "for h, w, c, oh, ow in [";
  for (const Case& k : cases) {
    script << "(" << k.in_h << "," << k.in_w << "," << k.c << "," << k.out_h << "," << k.out_w
           << "),";
  }
  script << "]:\n"
         << "    x = torch.tensor([(i * 37 + 11) % 256 for i in range(h * w * c)],\n"
         << "                     dtype=torch.float32).reshape(h, w, c).permute(2, 0, 1)[None]\n"
         << "    y = torch.nn.functional.interpolate(x, size=(oh, ow), mode='bilinear',\n"
         << "                                        align_corners=False, antialias=False)\n"
         << "    print(' '.join(repr(v) for v in y[0].permute(1, 2, 0).reshape(-1).tolist()))\n";
  ScratchDir dir;
  WriteFileAtomically(dir.Join("resize.py"), script.str());
  const auto result =
      RunShell("timeout 120 /usr/bin/python3 " + dir.Join("resize.py"), dir.Join("err"));
  ASSERT_EQ(result.exit_code, 0) << testing::ReadFileOrDie(dir.Join("err"));
  std::istringstream lines(result.out);
  for (const Case& k : cases) {
    SCOPED_TRACE(std::to_string(k.in_h) + "x" + std::to_string(k.in_w) + " -> " +
                 std::to_string(k.out_h) + "x" + std::to_string(k.out_w));
    std::vector<uint8_t> in(k.in_h * k.in_w * k.c);
    for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<uint8_t>((i * 37 + 11) % 256);
    std::vector<float> ours(k.out_h * k.out_w * k.c);
    ResizeBilinearHalfPixel(in.data(), k.in_h, k.in_w, k.c, ours.data(), k.out_h, k.out_w);
    std::string line;
    ASSERT_TRUE(std::getline(lines, line));
    std::istringstream values(line);
    std::vector<float> torch_values;
    for (float v; values >> v;) torch_values.push_back(v);
    ASSERT_EQ(torch_values.size(), ours.size());
    for (size_t i = 0; i < ours.size(); ++i) {
      EXPECT_NEAR(ours[i], torch_values[i], 1e-3f) << "value " << i;
    }
  }
}

}  // namespace
}  // namespace cloudbook
