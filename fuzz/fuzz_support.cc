#include "fuzz/fuzz_support.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace cloudbook {
namespace {

void RemoveScratch() {
  std::error_code ignored;
  std::filesystem::remove_all(FuzzScratchFolder(), ignored);
}

}  // namespace

const std::string& FuzzScratchFolder() {
  // Never destroyed: RemoveScratch runs at exit, after static destructors may have run.
  static const std::string* const folder = [] {
    // libFuzzer ends with _exit (no atexit): scripts/fuzz.sh names a base it removes itself.
    const char* chosen = std::getenv("CLOUDBOOK_FUZZ_SCRATCH");
    const std::string base = chosen != nullptr ? std::string(chosen)
                             : std::filesystem::is_directory("/dev/shm")
                                 ? std::string("/dev/shm")
                                 : std::filesystem::temp_directory_path().string();
    auto* path = new std::string(base + "/cloudbook-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(*path);
    std::atexit(RemoveScratch);
    return path;
  }();
  return *folder;
}

std::string WriteFuzzFile(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = FuzzScratchFolder() + "/" + name;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  FuzzCheck(out.good(), "could not write the fuzz input file");
  return path;
}

void FuzzCheck(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

void QuietLogs() { spdlog::set_level(spdlog::level::off); }

}  // namespace cloudbook
