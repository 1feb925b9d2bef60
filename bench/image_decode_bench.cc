// Times LoadImageFolder (shared/data/image_folder.h) on one folder: cold, into an empty
// image cache (decode + resize + cache write), then warm (the cache read, as later epochs and
// runs do). Prints one JSON line; bench/image_decode_bench.py drives it.
//   cloudbook_image_decode_bench --folder F --height 28 --width 28 --channels 1 --cache DIR
#include <CLI/CLI.hpp>
#include <boost/filesystem.hpp>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "shared/data/image_folder.h"
#include "shared/tunables.h"

int main(int argc, char** argv) {
  using namespace cloudbook;
  if (ReportBadTunables()) return 2;
  CLI::App app{"Image-folder decode throughput, cold and warm"};
  std::string folder, cache;
  ImageFolderOptions options;
  int warm_repeats = 3;
  app.add_option("--folder", folder, "Image folder (one sub-folder per class)")->required();
  app.add_option("--cache", cache, "Image cache folder (emptied first)")->required();
  app.add_option("--height", options.height)->required();
  app.add_option("--width", options.width)->required();
  app.add_option("--channels", options.channels, "1 or 3")->required();
  app.add_option("--threads", options.threads, "Decode threads (0: the tunable)");
  app.add_option("--warm-repeats", warm_repeats, "Warm loads timed (the best counts)");
  CLI11_PARSE(app, argc, argv);
  boost::filesystem::remove_all(cache);
  options.cache_dir = cache;
  options.scale = 255;
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  Result<ImageFolderData> cold = LoadImageFolder(folder, options);
  const double cold_s = std::chrono::duration<double>(Clock::now() - start).count();
  if (!cold.ok()) {
    std::fprintf(stderr, "%s\n", cold.status().ToString().c_str());
    return 1;
  }
  double warm_s = 1e30;
  for (int i = 0; i < warm_repeats; ++i) {
    start = Clock::now();
    Result<ImageFolderData> warm = LoadImageFolder(folder, options);
    warm_s = std::min(warm_s, std::chrono::duration<double>(Clock::now() - start).count());
    if (!warm.ok() || warm->x.values != cold->x.values) {
      std::fprintf(stderr, "warm load differs from the cold one\n");
      return 1;
    }
  }
  const auto images = static_cast<double>(cold->labels.size());
  nlohmann::json out = {
      {"images", cold->labels.size()},
      {"cold_s", cold_s},
      {"warm_s", warm_s},
      {"cold_images_per_s", images / cold_s},
      {"warm_images_per_s", images / warm_s},
      {"threads", options.threads > 0 ? options.threads : GetTunables().image_decode_threads}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
