#include "standin/models.hpp"

#include <fmt/core.h>
#include <openssl/evp.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

namespace standin {
namespace fs = std::filesystem;

Expected<std::string> Sha256File(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(ErrorCode::kUnreadable, fmt::format("cannot read {}", path.string()));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return Status(ErrorCode::kProcessingFailed, "sha256 unavailable");
  }
  std::array<char, 1 << 16> buf{};
  while (in) {
    in.read(buf.data(), buf.size());
    if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) return Status(ErrorCode::kUnreadable, fmt::format("cannot read {}", path.string()));
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md.data(), &len);
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

Expected<ModelStore> ModelStore::Open(const ModelStoreOptions& options) {
  ModelStore store;
  store.verify_ = options.verify_sha256;
  store.search_ = options.search_path;
  if (store.search_.empty()) {
    // $STANDIN_MODEL_DIR, when set, is the only place searched.
    if (const char* env = std::getenv("STANDIN_MODEL_DIR"); env != nullptr && *env != '\0') {
      store.search_.emplace_back(env);
    } else {
      // Installed models first; then, for developer builds, the source tree's manifest and
      // generator and the files `models/fetch.py models/cache` fetched.
      store.search_.emplace_back(STANDIN_INSTALLED_MODEL_DIR);
      store.search_.emplace_back(STANDIN_SOURCE_MODEL_DIR);
      store.search_.emplace_back(fs::path(STANDIN_SOURCE_MODEL_DIR) / "cache");
    }
  }
  fs::path manifest;
  for (const auto& dir : store.search_) {
    std::error_code ec;
    if (fs::is_regular_file(dir / "manifest.json", ec)) {
      manifest = dir / "manifest.json";
      break;
    }
  }
  if (manifest.empty()) {
    return Status(ErrorCode::kModelMissing,
                  "model manifest.json not found (searched $STANDIN_MODEL_DIR and " +
                      std::string(STANDIN_INSTALLED_MODEL_DIR) +
                      "); restore it with: standin-fetch-models");
  }
  try {
    std::ifstream in(manifest);
    const auto json = nlohmann::json::parse(in);
    for (const auto& f : json.at("files")) {
      Entry e;
      e.name = f.at("name").get<std::string>();
      e.sha256 = f.at("sha256").get<std::string>();
      // "path": absolute (a Debian file); "path_in_models": relative to a model folder.
      e.location = f.value("path", f.value("path_in_models", e.name));
      e.restore = f.value("restore", std::string("standin-fetch-models"));
      store.entries_.push_back(std::move(e));
    }
  } catch (const std::exception& ex) {
    return Status(ErrorCode::kModelMissing,
                  fmt::format("{} is unreadable ({}); restore it with: standin-fetch-models",
                              manifest.string(), ex.what()));
  }
  return store;
}

Expected<fs::path> ModelStore::Path(const std::string& name) const {
  const Entry* entry = nullptr;
  for (const auto& e : entries_) {
    if (e.name == name) entry = &e;
  }
  if (entry == nullptr) {
    return Status(ErrorCode::kModelMissing, fmt::format("model {} is not in the manifest", name));
  }
  fs::path found;
  std::error_code ec;
  if (fs::path(entry->location).is_absolute()) {
    if (fs::is_regular_file(entry->location, ec)) found = entry->location;
  } else {
    for (const auto& dir : search_) {
      if (fs::is_regular_file(dir / entry->location, ec)) {
        found = dir / entry->location;
        break;
      }
    }
  }
  if (found.empty()) {
    return Status(ErrorCode::kModelMissing,
                  fmt::format("model file {} is missing; restore it with: {}", entry->location,
                              entry->restore));
  }
  if (verify_) {
    auto digest = Sha256File(found);
    if (!digest.ok() || *digest != entry->sha256) {
      return Status(ErrorCode::kModelMissing,
                    fmt::format("model file {} is corrupt (sha256 mismatch); restore it with: {}",
                                found.string(), entry->restore));
    }
  }
  return found;
}

}  // namespace standin
