// libFuzzer target: see FuzzKerasImport in fuzz/fuzz_entries.h.
#include "fuzz/fuzz_entries.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cloudbook::QuietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return cloudbook::FuzzKerasImport(data, size);
}
