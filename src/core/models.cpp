#include "standin/models.hpp"

#include <fmt/core.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
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

namespace {

// The identity of a file's current contents as the filesystem sees it.
std::string StatKey(const fs::path& file) {
  struct stat st {};
  if (stat(file.c_str(), &st) != 0) return {};
  return fmt::format("{}:{}:{}:{}.{}:{}.{}", st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec,
                     st.st_mtim.tv_nsec, st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
}

fs::path DefaultCacheFile() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return fs::path(xdg) / "standin" / "verified-models.json";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return fs::path(home) / ".cache" / "standin" / "verified-models.json";
  }
  return {};
}

nlohmann::json ReadCache(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return nlohmann::json::object();
  try {
    auto j = nlohmann::json::parse(in);
    return j.is_object() ? j : nlohmann::json::object();
  } catch (const std::exception&) {
    return nlohmann::json::object();  // a damaged cache only costs a re-hash
  }
}

}  // namespace

bool ModelStore::Verified(const fs::path& file, const std::string& sha256) const {
  const std::string key = StatKey(file);
  nlohmann::json cache;
  if (!cache_file_.empty() && !key.empty()) {
    cache = ReadCache(cache_file_);
    const auto it = cache.find(file.string());
    if (it != cache.end() && it->is_object() && it->value("stat", "") == key &&
        it->value("sha256", "") == sha256) {
      return true;
    }
  }
  auto digest = Sha256File(file);
  if (!digest.ok() || *digest != sha256) return false;
  if (!cache_file_.empty() && !key.empty()) {
    // Best effort: a cache that cannot be written just means hashing again next time.
    cache[file.string()] = {{"stat", key}, {"sha256", sha256}};
    std::error_code ec;
    fs::create_directories(cache_file_.parent_path(), ec);
    const fs::path tmp = cache_file_.string() + fmt::format(".{}.tmp", getpid());
    {
      std::ofstream out(tmp);
      out << cache.dump();
    }
    fs::rename(tmp, cache_file_, ec);
    if (ec) fs::remove(tmp, ec);
  }
  return true;
}

Expected<ModelStore> ModelStore::Open(const ModelStoreOptions& options) {
  ModelStore store;
  store.verify_ = options.verify_sha256;
  if (options.verify_cache.empty()) {
    store.cache_file_ = DefaultCacheFile();
  } else if (options.verify_cache != "-") {
    store.cache_file_ = options.verify_cache;
  }
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

bool ModelStore::Lists(const std::string& name) const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [&](const Entry& e) { return e.name == name; });
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
    if (!Verified(found, entry->sha256)) {
      return Status(ErrorCode::kModelMissing,
                    fmt::format("model file {} is corrupt (sha256 mismatch); restore it with: {}",
                                found.string(), entry->restore));
    }
  }
  return found;
}

}  // namespace standin
