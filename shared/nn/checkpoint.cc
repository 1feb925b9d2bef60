#include "shared/nn/checkpoint.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <mutex>

#include "shared/atomic_file.h"
#include "shared/json_io.h"
#include "shared/project_layout.h"
#include "shared/shared_folder_mounts.h"

namespace cloudbook {

namespace {

constexpr size_t kHeaderBytes = kCheckpointHeaderBytes;
constexpr char kSupersededPrefix[] = "superseded: ";

constexpr uint64_t kPrime1 = 0x9E3779B185EBCA87ULL;
constexpr uint64_t kPrime2 = 0xC2B2AE3D27D4EB4FULL;

uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// Little-endian on every host, so a checkpoint hashes the same on any agent.
uint64_t Load64(const unsigned char* p) {
  uint64_t word;
  std::memcpy(&word, p, sizeof(word));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  word = __builtin_bswap64(word);
#endif
  return word;
}

void Put64(std::string& out, size_t offset, uint64_t value) {
  for (int i = 0; i < 8; ++i) out[offset + i] = static_cast<char>((value >> (8 * i)) & 0xFF);
}

std::string Hex(uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof(text), "%016" PRIx64, value);
  return text;
}

// JSON has no NaN: absent metrics (regression accuracy, no validation set) become null.
Json Number(double value) { return std::isfinite(value) ? Json(value) : Json(nullptr); }

double NumberOrNan(const Json& json, const char* key) {
  const auto it = json.find(key);
  if (it == json.end() || !it->is_number()) return std::numeric_limits<double>::quiet_NaN();
  return it->get<double>();
}

Json ProgressToJson(const EpochProgress& p) {
  return {{"subnet_index", p.subnet_index},
          {"epoch", p.epoch},
          {"epochs", p.epochs},
          {"train_loss", Number(p.train_loss)},
          {"train_accuracy", Number(p.train_accuracy)},
          {"validation_loss", Number(p.validation_loss)},
          {"validation_accuracy", Number(p.validation_accuracy)},
          {"epoch_seconds", Number(p.epoch_seconds)},
          {"samples_per_second", Number(p.samples_per_second)},
          {"eta_seconds", Number(p.eta_seconds)}};
}

EpochProgress ProgressFromJson(const Json& json) {
  EpochProgress p;
  p.subnet_index = json.at("subnet_index").get<int>();
  p.epoch = json.at("epoch").get<int64_t>();
  p.epochs = json.at("epochs").get<int64_t>();
  p.train_loss = NumberOrNan(json, "train_loss");
  p.train_accuracy = NumberOrNan(json, "train_accuracy");
  p.validation_loss = NumberOrNan(json, "validation_loss");
  p.validation_accuracy = NumberOrNan(json, "validation_accuracy");
  p.epoch_seconds = NumberOrNan(json, "epoch_seconds");
  p.samples_per_second = NumberOrNan(json, "samples_per_second");
  p.eta_seconds = NumberOrNan(json, "eta_seconds");
  return p;
}

Json InfoToJson(const CheckpointInfo& info) {
  Json history = Json::array();
  for (const EpochProgress& p : info.history) history.push_back(ProgressToJson(p));
  return {{"format_version", info.format_version},
          {"subnet_index", info.subnet_index},
          {"seed", info.seed},
          {"spec_fingerprint", info.spec_fingerprint},
          {"data_fingerprint", info.data_fingerprint},
          {"owner_version", info.owner_version},
          {"epoch", info.epoch},
          {"epochs", info.epochs},
          {"threads", info.threads},
          {"history", history}};
}

Result<CheckpointInfo> InfoFromJson(const Json& json, const std::string& path) {
  try {
    CheckpointInfo info;
    info.format_version = json.at("format_version").get<int>();
    info.subnet_index = json.at("subnet_index").get<int>();
    info.seed = json.at("seed").get<uint64_t>();
    info.spec_fingerprint = json.at("spec_fingerprint").get<std::string>();
    info.data_fingerprint = json.at("data_fingerprint").get<std::string>();
    info.owner_version = json.at("owner_version").get<int64_t>();
    info.epoch = json.at("epoch").get<int64_t>();
    info.epochs = json.at("epochs").get<int64_t>();
    info.threads = json.at("threads").get<int>();
    for (const Json& entry : json.at("history")) info.history.push_back(ProgressFromJson(entry));
    return info;
  } catch (const std::exception& error) {
    return Status::Corruption(path + ": checkpoint metadata: " + error.what());
  }
}

Result<CheckpointInfo> ParseInfo(const char* bytes, size_t size, const std::string& path) {
  CB_ASSIGN_OR_RETURN(Json json, ParseJsonText(std::string(bytes, size), path));
  return InfoFromJson(json, path);
}

// Copies the archived tensors into the module's own tensors. Module::load would set_() the
// parameters onto the archive's storage instead; copying keeps each tensor's storage (and its
// alignment, which vectorised kernels see) and checks every shape on the way.
void RestoreModule(torch::nn::Module& module, torch::serialize::InputArchive& archive) {
  torch::NoGradGuard no_grad;
  auto restore = [&archive](const std::string& key, torch::Tensor target, bool is_buffer) {
    torch::Tensor saved;
    archive.read(key, saved, is_buffer);
    TORCH_CHECK(saved.sizes() == target.sizes() && saved.dtype() == target.dtype(), "tensor '", key,
                "' is ", saved.sizes(), " ", saved.dtype(), ", the network has ", target.sizes(),
                " ", target.dtype());
    target.copy_(saved);
  };
  for (const auto& parameter : module.named_parameters(/*recurse=*/false)) {
    restore(parameter.key(), parameter.value(), /*is_buffer=*/false);
  }
  for (const auto& buffer : module.named_buffers(/*recurse=*/false)) {
    restore(buffer.key(), buffer.value(), /*is_buffer=*/true);
  }
  for (const auto& child : module.named_children()) {
    torch::serialize::InputArchive child_archive;
    archive.read(child.key(), child_archive);
    RestoreModule(*child.value(), child_archive);
  }
}

}  // namespace

std::string CheckpointPath(const std::string& checkpoint_dir, int subnet_index) {
  std::string path = checkpoint_dir;
  if (!path.empty() && path.back() != '/') path += '/';
  return path + SubnetWeightsFileName(subnet_index);
}

uint64_t Hash64(const void* data, size_t size, uint64_t seed) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  uint64_t hash = seed ^ (static_cast<uint64_t>(size) * kPrime1);
  size_t i = 0;
  for (; i + 8 <= size; i += 8) hash = Rotl(hash ^ (Load64(bytes + i) * kPrime2), 31) * kPrime1;
  uint64_t tail = 0;
  for (int shift = 0; i < size; ++i, shift += 8) tail |= static_cast<uint64_t>(bytes[i]) << shift;
  hash = Rotl(hash ^ (tail * kPrime2), 31) * kPrime1;
  // splitmix64's finaliser: every input bit reaches every output bit.
  hash ^= hash >> 30;
  hash *= 0xBF58476D1CE4E5B9ULL;
  hash ^= hash >> 27;
  hash *= 0x94D049BB133111EBULL;
  return hash ^ (hash >> 31);
}

std::string SpecFingerprint(const SubnetSpec& subnet, ProblemType problem) {
  Json train = ToJson(subnet.train);
  train.erase("epochs");  // see the header: more epochs continue the same trajectory
  const Json json = {{"index", subnet.index},
                     {"model", ToJson(subnet.model)},
                     {"train", train},
                     {"widths", subnet.widths},
                     {"seed", subnet.seed},
                     {"classes", subnet.classes},
                     {"half", subnet.half},
                     {"columns", {subnet.column_begin, subnet.column_end}},
                     {"problem", ProblemTypeName(problem)}};
  const std::string text = json.dump();  // keys sorted: the same spec gives the same text
  return Hex(Hash64(text.data(), text.size()));
}

std::string DataFingerprint(const LabeledArrays& train) {
  uint64_t hash = 0;
  auto add = [&hash](const void* data, size_t bytes) { hash = Hash64(data, bytes, hash); };
  add(train.x.shape.data(), train.x.shape.size() * sizeof(int64_t));
  add(train.x.values.data(), train.x.values.size() * sizeof(float));
  add(train.y.shape.data(), train.y.shape.size() * sizeof(int64_t));
  add(train.y.values.data(), train.y.values.size() * sizeof(float));
  add(train.labels.data(), train.labels.size() * sizeof(int64_t));
  return Hex(hash);
}

Status Superseded(const std::string& path, int64_t found_version, int64_t own_version) {
  return Status::IoError(std::string(kSupersededPrefix) + path + " belongs to owner version " +
                         std::to_string(found_version) + ", newer than this owner's " +
                         std::to_string(own_version) + "; not training over it");
}

bool IsSuperseded(const Status& status) {
  const std::string& message = status.message();
  return !status.ok() && (message.rfind(kSupersededPrefix, 0) == 0 ||
                          message.find(std::string(": ") + kSupersededPrefix) != std::string::npos);
}

Result<CheckpointInfo> ReadCheckpointInfo(const std::string& path) {
  CB_ASSIGN_OR_RETURN(const Json metadata, ReadCheckpointMetadata(path));
  return InfoFromJson(metadata, path);
}

Status SaveCheckpoint(const std::string& path, const CheckpointInfo& info, Net& net,
                      torch::optim::Optimizer& optimizer) {
  Result<CheckpointInfo> existing = ReadCheckpointInfo(path);
  if (existing.ok() && existing->owner_version > info.owner_version) {
    return Superseded(path, existing->owner_version, info.owner_version);
  }
  try {
    torch::serialize::OutputArchive archive;
    torch::serialize::OutputArchive model_archive(archive.compilation_unit());
    net->save(model_archive);
    archive.write("model", model_archive);
    torch::serialize::OutputArchive optimizer_archive(archive.compilation_unit());
    optimizer.save(optimizer_archive);
    archive.write("optimizer", optimizer_archive);
    {
      at::Generator& generator = net->dropout_generator();
      std::lock_guard<std::mutex> lock(generator.mutex());
      archive.write("dropout_generator", generator.get_state(), /*is_buffer=*/true);
    }

    // One buffer: header placeholder, metadata, then the archive appended in place.
    const std::string metadata = InfoToJson(info).dump();
    std::string file(kHeaderBytes, '\0');
    file += metadata;
    archive.save_to([&file](const void* data, size_t size) {
      file.append(static_cast<const char*>(data), size);
      return size;
    });
    std::memcpy(file.data(), kCheckpointMagic, sizeof(kCheckpointMagic));
    Put64(file, 8, static_cast<uint64_t>(kCheckpointFormatVersion));  // + 4 reserved zero bytes
    Put64(file, 16, metadata.size());
    Put64(file, 24, file.size() - kHeaderBytes - metadata.size());
    Put64(file, 32, Hash64(file.data() + kHeaderBytes, file.size() - kHeaderBytes));
    return WriteFileAtomically(path, file);
  } catch (const c10::Error& error) {
    return Status::Internal("cannot serialise checkpoint " + path + ": " +
                            error.what_without_backtrace());
  } catch (const std::exception& error) {
    return Status::Internal("cannot serialise checkpoint " + path + ": " + error.what());
  }
}

Result<CheckpointInfo> LoadCheckpoint(const std::string& path, Net& net,
                                      torch::optim::Optimizer& optimizer) {
  CB_ASSIGN_OR_RETURN(std::string file, ReadWholeFile(path));
  if (file.size() < kHeaderBytes) {
    return Status::Corruption(path + " is shorter than a checkpoint header");
  }
  CB_ASSIGN_OR_RETURN(CheckpointHeader header, ParseCheckpointHeader(file.data(), path));
  if (header.payload_bytes > file.size() ||
      kHeaderBytes + header.metadata_bytes + header.payload_bytes != file.size()) {
    return Status::Corruption(
        path + " is torn: " + std::to_string(file.size()) + " bytes where its header announces " +
        std::to_string(kHeaderBytes + header.metadata_bytes + header.payload_bytes));
  }
  if (Hash64(file.data() + kHeaderBytes, file.size() - kHeaderBytes) != header.hash) {
    return Status::Corruption(path + " is corrupt: its checksum does not match");
  }
  CB_ASSIGN_OR_RETURN(CheckpointInfo info,
                      ParseInfo(file.data() + kHeaderBytes, header.metadata_bytes, path));
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(file.data() + kHeaderBytes + header.metadata_bytes, header.payload_bytes);
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    RestoreModule(*net, model_archive);
    torch::serialize::InputArchive optimizer_archive;
    archive.read("optimizer", optimizer_archive);
    optimizer.load(optimizer_archive);
    torch::Tensor generator_state;
    archive.read("dropout_generator", generator_state, /*is_buffer=*/true);
    at::Generator& generator = net->dropout_generator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(generator_state);
  } catch (const c10::Error& error) {
    return Status::Corruption(path + ": " + error.what_without_backtrace());
  } catch (const std::exception& error) {
    return Status::Corruption(path + ": " + error.what());
  }
  return info;
}

}  // namespace cloudbook
