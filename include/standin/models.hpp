// Locating and verifying model files. Every model standin loads is listed in
// models/manifest.json with its sha256 and the command that restores it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "standin/status.hpp"

namespace standin {

struct ModelStoreOptions {
  // Folders searched, in order, for manifest.json and model files. Empty: $STANDIN_MODEL_DIR,
  // then the installed share/standin/models, then the source tree's models/ (developer builds).
  std::vector<std::filesystem::path> search_path;
  // Check each file's sha256 against the manifest before it is used (default on).
  bool verify_sha256 = true;
  // Where verified digests are remembered, keyed by the file's device, inode, size, mtime and
  // ctime (any change to the file changes its ctime), so unchanged models are not hashed again
  // at every start. Empty: $XDG_CACHE_HOME/standin or ~/.cache/standin; "-": no cache.
  std::filesystem::path verify_cache;
};

class ModelStore {
 public:
  static Expected<ModelStore> Open(const ModelStoreOptions& options = {});

  // Absolute path of the verified model file `name` (as named in the manifest), or kModelMissing
  // with one line naming the file and the command that restores it.
  [[nodiscard]] Expected<std::filesystem::path> Path(const std::string& name) const;
  // Whether the manifest names `name` at all (an optional model: a manifest without it means
  // the model is not part of this release, not that its file is missing).
  [[nodiscard]] bool Lists(const std::string& name) const;

  [[nodiscard]] const std::vector<std::filesystem::path>& search_path() const { return search_; }

 private:
  struct Entry {
    std::string name;
    std::string sha256;
    std::string location;  // absolute path, or a name relative to a model folder
    std::string restore;   // command that restores it
  };
  [[nodiscard]] bool Verified(const std::filesystem::path& file, const std::string& sha256) const;

  std::vector<std::filesystem::path> search_;
  std::vector<Entry> entries_;
  bool verify_ = true;
  std::filesystem::path cache_file_;  // empty: no cache
};

// Hex sha256 of a file's contents, or an error if it cannot be read.
Expected<std::string> Sha256File(const std::filesystem::path& path);

}  // namespace standin
