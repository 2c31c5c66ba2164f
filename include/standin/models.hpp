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
};

class ModelStore {
 public:
  static Expected<ModelStore> Open(const ModelStoreOptions& options = {});

  // Absolute path of the verified model file `name` (as named in the manifest), or kModelMissing
  // with one line naming the file and the command that restores it.
  [[nodiscard]] Expected<std::filesystem::path> Path(const std::string& name) const;

  [[nodiscard]] const std::vector<std::filesystem::path>& search_path() const { return search_; }

 private:
  struct Entry {
    std::string name;
    std::string sha256;
    std::string location;  // absolute path, or a name relative to a model folder
    std::string restore;   // command that restores it
  };
  std::vector<std::filesystem::path> search_;
  std::vector<Entry> entries_;
  bool verify_ = true;
};

// Hex sha256 of a file's contents, or an error if it cannot be read.
Expected<std::string> Sha256File(const std::filesystem::path& path);

}  // namespace standin
