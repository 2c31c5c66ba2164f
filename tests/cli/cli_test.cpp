// End-to-end tests of the standin command: real files in, real files out.
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <set>

#include "standin/io.hpp"
#include "support/test_support.hpp"

namespace standin {
namespace {
namespace fs = std::filesystem;
using test::Standin;

// One line on stderr, naming the problem.
void ExpectOneErrorLine(const test::RunResult& r) {
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.rfind("standin: error: ", 0), 0u) << r.err;
}

// The faces of `photo`'s --json report after `standin photo -o DIR/o.jpg -q --seed 1 EXTRA`.
nlohmann::json FacesOf(const fs::path& photo, const fs::path& dir,
                       const std::vector<std::string>& extra) {
  std::vector<std::string> args = {
      photo.string(),           "-o", (dir / "o.jpg").string(), "-q", "--seed", "1", "--json",
      (dir / "o.json").string()};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = Standin(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(test::ReadBytes(dir / "o.json"))["files"][0]["faces"];
}

TEST(Cli, AnonymizesAnImageAndWritesJson) {
  test::TempDir dir;
  fs::copy_file(test::SamplePhoto("2008_002470.jpg"), dir / "p.jpg");
  const auto r = Standin({(dir / "p.jpg").string(), "--json", (dir / "p.json").string(), "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(test::ListFiles(dir.path()),
            (std::vector<std::string>{"p.jpg", "p.json", "p_anonymized.jpg"}));
  const auto json = nlohmann::json::parse(test::ReadBytes(dir / "p.json"));
  const auto& faces = json["files"][0]["faces"];
  EXPECT_EQ(faces.size(), 6u);
  for (const auto& f : faces) {
    EXPECT_EQ(f["box"].size(), 4u);
    EXPECT_EQ(f["keypoints5"].size(), 5u);
    EXPECT_EQ(f["landmarks68"].size(), 68u);
    // Generated stand-ins by default, each with its privacy receipt.
    EXPECT_EQ(f["method"], "generate");
    EXPECT_FALSE(f.contains("reason"));
    EXPECT_TRUE(f["identity_guard"]["passed"].get<bool>());
  }
  EXPECT_EQ(json["method"], "generate");
  // Each face really changed; the input did not.
  const cv::Mat in = cv::imread((dir / "p.jpg").string());
  const cv::Mat out = cv::imread((dir / "p_anonymized.jpg").string());
  ASSERT_EQ(in.size(), out.size());
  for (const auto& f : faces) {
    const cv::Rect box(f["box"][0].get<int>(), f["box"][1].get<int>(), f["box"][2].get<int>(),
                       f["box"][3].get<int>());
    cv::Mat diff;
    cv::absdiff(in(box & cv::Rect(0, 0, in.cols, in.rows)),
                out(box & cv::Rect(0, 0, in.cols, in.rows)), diff);
    EXPECT_GT(cv::mean(diff)[0] + cv::mean(diff)[1] + cv::mean(diff)[2], 15.0);
  }
  EXPECT_EQ(test::ReadBytes(dir / "p.jpg"), test::ReadBytes(test::SamplePhoto("2008_002470.jpg")));
}

// A close-up whose 64 px stand-in would be scaled up 9x gets --unpainted-method (blur) by default,
// and the JSON says why; --max-upscale 0 paints it all the same.
TEST(Cli, AFaceTooLargeForTheGeneratorGetsTheLargeFaceMethodAndSaysWhy) {
  test::TempDir dir;
  const fs::path photo = test::SamplePhoto("Tom_Cruise_avp_2014_4.jpg");
  auto face_of = [&](const std::vector<std::string>& extra) {
    const auto faces = FacesOf(photo, dir.path(), extra);
    EXPECT_EQ(faces.size(), 1u);
    return faces[0];
  };
  const auto blurred = face_of({});
  EXPECT_EQ(blurred["method"], "blur");
  EXPECT_NE(blurred["reason"].get<std::string>().find("too large for the 64 px generator"),
            std::string::npos)
      << blurred["reason"];
  EXPECT_FALSE(blurred.contains("identity_guard"));  // not judged: no stand-in was drawn
  EXPECT_EQ(face_of({"--unpainted-method", "solid"})["method"], "solid");
  const auto painted = face_of({"--max-upscale", "0"});
  EXPECT_EQ(painted["method"], "generate");
  EXPECT_FALSE(painted.contains("reason"));
  EXPECT_TRUE(painted.contains("identity_guard"));
  EXPECT_EQ(face_of({"-m", "blur"})["method"], "blur");
  EXPECT_FALSE(face_of({"-m", "blur"}).contains("reason"));  // asked for, so no reason given
  // Without -q, one line says what each face got.
  const auto r = Standin({photo.string(), "-o", (dir / "p.jpg").string(), "--seed", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("standin: 1 face: 1 blur (1 too large for the 64 px generator)\n"),
            std::string::npos)
      << r.err;
}

// The dlib sample photo with a raised fist that the detector takes for a face (score 0.56): by
// default the fist is blurred, not given a face, and says why; the faces are painted.
TEST(Cli, AnUnsureDetectionIsBlurredNotGivenAFace) {
  test::TempDir dir;
  const fs::path photo = test::SamplePhoto("2009_004587.jpg");
  auto faces_of = [&](const std::vector<std::string>& extra) {
    return FacesOf(photo, dir.path(), extra);
  };
  int unsure = 0;
  for (const auto& f : faces_of({})) {
    if (f["score"].get<double>() < 0.7) {
      ++unsure;
      EXPECT_EQ(f["method"], "blur");
      EXPECT_NE(f["reason"].get<std::string>().find("maybe not a face"), std::string::npos);
    } else {
      EXPECT_EQ(f["method"], "generate");
    }
  }
  EXPECT_EQ(unsure, 1);
  for (const auto& f : faces_of({"--paint-above", "0"})) EXPECT_EQ(f["method"], "generate");
}

// --blocks sets the pixelation's mosaic: fewer blocks across the face, fewer distinct colours in
// it (the held-out recogniser names 28.7% of AT&T faces at the default 8, docs/evaluation.md).
TEST(Cli, PixelateBlocksSetTheMosaic) {
  test::TempDir dir;
  const auto photo = test::SamplePhoto("2008_002470.jpg");
  std::map<int, size_t> colours;
  for (int blocks : {4, 16}) {
    const auto out = dir / fmt::format("b{}.png", blocks);
    const auto json = dir / fmt::format("b{}.json", blocks);
    const auto r = Standin({photo.string(), "-o", out.string(), "-m", "pixelate", "--blocks",
                            std::to_string(blocks), "--json", json.string(), "-q"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto faces = nlohmann::json::parse(test::ReadBytes(json))["files"][0]["faces"];
    ASSERT_FALSE(faces.empty());
    const cv::Mat img = cv::imread(out.string());
    std::set<int> seen;
    for (const auto& f : faces) {
      // The inner half of the face box, well inside the soft edge.
      const float w = f["box"][2].get<float>(), h = f["box"][3].get<float>();
      const cv::Rect inner(static_cast<int>(f["box"][0].get<float>() + w / 4),
                           static_cast<int>(f["box"][1].get<float>() + h / 4),
                           static_cast<int>(w / 2), static_cast<int>(h / 2));
      const cv::Mat part = img(inner & cv::Rect(0, 0, img.cols, img.rows));
      for (int y = 0; y < part.rows; ++y) {
        for (int x = 0; x < part.cols; ++x) {
          const auto& p = part.at<cv::Vec3b>(y, x);
          seen.insert((p[0] << 16) | (p[1] << 8) | p[2]);
        }
      }
    }
    colours[blocks] = seen.size();
  }
  // At most about 3 x 3 blocks in each face's inner half at 4 blocks (6 faces), far more at 16.
  EXPECT_LE(colours[4], 6u * 9u);
  EXPECT_GT(colours[16], 3 * colours[4]);
  EXPECT_EQ(
      Standin({photo.string(), "-o", (dir / "x.png").string(), "-m", "pixelate", "--blocks", "1"})
          .exit_code,
      2);
}

TEST(Cli, GenerateWritesAPrivacyReceiptPerFace) {
  test::TempDir dir;
  const std::string in = test::SamplePhoto("2008_002506.jpg").string();
  // With the guard (by default: relative margins, the stranger test and donors; then one fixed
  // margin; then neither the stranger test nor donors; then with further recognisers, MobileFace,
  // dlib's ResNet or both in that order, each at its own default margin), and without it.
  for (const std::string mode :
       {"default", "fixed", "lenient", "second", "second-dlib", "second-both", "off"}) {
    const bool guard = mode != "off";
    const bool second = mode.starts_with("second");
    // The further recognisers and their default margins, in order.
    std::vector<std::pair<std::string, double>> seconds;
    if (mode == "second" || mode == "second-both") seconds.emplace_back("mobileface", 0.452);
    if (mode == "second-dlib" || mode == "second-both") seconds.emplace_back("dlib-resnet", 0.961);
    std::vector<std::string> args = {
        in,  "-o",     (dir / "g.jpg").string(),  "-m", "generate", "--seed",
        "3", "--json", (dir / "g.json").string(), "-q"};
    if (!guard) args.push_back("--no-identity-guard");
    if (mode == "fixed") args.push_back("--fixed-margin");
    if (mode == "lenient") {
      args.insert(args.end(), {"--stranger-percentile", "0", "--donors", "0"});
    }
    for (const auto& [name, margin] : seconds) {
      args.insert(args.end(), {"--second-recogniser", name});
    }
    if (mode == "second-both") args.insert(args.end(), {"--second-stranger-percentile", "40,75"});
    fs::remove(dir / "g.jpg");
    const auto r = Standin(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto json = nlohmann::json::parse(test::ReadBytes(dir / "g.json"));
    EXPECT_EQ(json["identity_guard"]["enabled"], guard);
    if (guard) {
      EXPECT_EQ(json["identity_guard"]["relative_margin"], mode != "fixed");
      EXPECT_DOUBLE_EQ(json["identity_guard"]["stranger_percentile"].get<double>(),
                       mode == "lenient" ? 0.0 : 40.0);
      EXPECT_EQ(json["identity_guard"]["donors"].get<int>(), mode == "lenient" ? 0 : 8);
      EXPECT_DOUBLE_EQ(json["identity_guard"]["donor_identity_weight"].get<double>(), 0.0);
      EXPECT_EQ(json["identity_guard"].contains("second"), second);
      if (second) {
        const auto& header = json["identity_guard"]["second"];
        ASSERT_EQ(header.size(), seconds.size());
        for (size_t j = 0; j < seconds.size(); ++j) {
          EXPECT_EQ(header[j]["recogniser"], seconds[j].first);
          EXPECT_DOUBLE_EQ(header[j]["margin"].get<double>(), seconds[j].second);
          EXPECT_DOUBLE_EQ(header[j]["stranger_percentile"].get<double>(),
                           mode == "second-both" && j == 1 ? 75.0 : 40.0);
        }
      }
    }
    const auto& faces = json["files"][0]["faces"];
    ASSERT_EQ(faces.size(), 3u);
    for (const auto& f : faces) {
      EXPECT_EQ(f.contains("identity_guard"), guard);
      if (!guard) continue;
      const auto& g = f["identity_guard"];
      EXPECT_EQ(g["recogniser"], "arcface");
      // Each face's margin: the fixed one, or at least that when raised per face.
      if (mode == "fixed") {
        EXPECT_DOUBLE_EQ(g["margin"].get<double>(), 0.315);
      } else {
        EXPECT_GE(g["margin"].get<double>(), 0.315);
      }
      EXPECT_LE(g["candidates_drawn"].get<int>(), json["identity_guard"]["candidates"].get<int>() +
                                                      json["identity_guard"]["donors"].get<int>());
      EXPECT_GE(g["candidates_drawn"].get<int>(), 1);
      EXPECT_EQ(g.contains("second"), second);
      if (g["passed"]) {
        EXPECT_LT(g["similarity"].get<double>(), g["margin"].get<double>());
        if (second) {  // below each further recogniser's margin and stranger threshold too
          ASSERT_EQ(g["second"].size(), seconds.size());
          for (size_t j = 0; j < seconds.size(); ++j) {
            const auto& s = g["second"][j];
            EXPECT_EQ(s["recogniser"], seconds[j].first);
            EXPECT_GE(s["margin"].get<double>(), seconds[j].second);
            EXPECT_LT(s["similarity"].get<double>(), s["margin"].get<double>());
            EXPECT_LT(s["similarity"].get<double>(), s["stranger_threshold"].get<double>());
          }
        }
        // The stranger test: the stand-in's own bank percentile it had to stay below.
        EXPECT_EQ(g.contains("stranger_threshold"), mode != "lenient");
        if (mode != "lenient") {
          EXPECT_LT(g["similarity"].get<double>(), g["stranger_threshold"].get<double>());
        }
        EXPECT_TRUE(g["attributes_after"].contains("age"));
        // A donor stands in only after all of the face's own candidates were drawn.
        if (g.contains("donor")) {
          EXPECT_NE(mode, "lenient");
          EXPECT_GT(g["candidates_drawn"].get<int>(),
                    json["identity_guard"]["candidates"].get<int>());
          EXPECT_GE(g["donor"].get<int>(), 0);
        }
      }
      EXPECT_TRUE(g["attributes_before"].contains("p_female"));
    }
    // The original face's embeddings (256 or 512 numbers) are never written: the longest array
    // in the JSON is a face's 68 landmarks.
    std::function<size_t(const nlohmann::json&)> longest = [&](const nlohmann::json& j) {
      size_t n = j.is_array() ? j.size() : 0;
      if (j.is_structured()) {
        for (const auto& v : j) n = std::max(n, longest(v));
      }
      return n;
    };
    EXPECT_EQ(longest(json), 68u);
  }
}

// Frames in a video file, by decoding it.
int CountFrames(const fs::path& video) {
  const auto r =
      test::Run({"ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                 "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", video.string()});
  return r.exit_code == 0 ? std::atoi(r.out.c_str()) : -1;
}

TEST(Cli, TheStrangerTestNeedsArcface) {
  test::TempDir dir;
  const auto r =
      Standin({test::SamplePhoto("2008_002506.jpg").string(), "-o", (dir / "g.jpg").string(), "-m",
               "generate", "--recogniser", "dlib-resnet", "--stranger-percentile", "50", "-q"});
  EXPECT_EQ(r.exit_code, 2);
  ExpectOneErrorLine(r);
  EXPECT_FALSE(fs::exists(dir / "g.jpg"));
}

TEST(Cli, ReadsAStreamUrlAndNeedsAnOutputFile) {
  test::TempDir dir;
  const auto src = test::MakeVideo(dir, "v.mp4", 20, 25, true);
  const std::string url = "file://" + src.string();
  const auto no_output = Standin({url, "-q"});
  EXPECT_EQ(no_output.exit_code, 2);
  ExpectOneErrorLine(no_output);
  const auto r = Standin({url, "-o", (dir / "out.mp4").string(), "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CountFrames(dir / "out.mp4"), 20);
}

// Ctrl-C (SIGINT once the output is being written and a second has passed): a stream is
// finished and written with the frames read so far; a file in progress is abandoned and leaves
// nothing behind.
TEST(Cli, InterruptFinishesAStreamAndAbandonsAFile) {
  test::TempDir dir;
  const auto src = dir / "long.mp4";
  const auto made =
      test::Run({"ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25",
                 "-frames:v", "3000", "-c:v", "libx264", "-preset", "ultrafast", src.string()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  // True a second after the hidden temporary output `name` is being written appeared.
  auto writing = [&](const std::string& name) {
    auto since = std::make_shared<std::chrono::steady_clock::time_point>();
    return [&dir, name, since]() {
      for (const auto& e : fs::directory_iterator(dir.path())) {
        if (e.path().filename().string().starts_with("." + name + ".standin-")) {
          const auto now = std::chrono::steady_clock::now();
          if (*since == std::chrono::steady_clock::time_point()) *since = now;
          return now - *since > std::chrono::seconds(1);
        }
      }
      return false;
    };
  };
  const auto stream =
      test::Run({STANDIN_CLI, "file://" + src.string(), "-o", (dir / "s.mp4").string(), "-q"}, -1,
                writing("s.mp4"));
  EXPECT_EQ(stream.exit_code, 0) << stream.err;
  const int written = CountFrames(dir / "s.mp4");
  EXPECT_GT(written, 0);
  EXPECT_LT(written, 3000);  // stopped early, not run to the end
  const auto file = test::Run({STANDIN_CLI, src.string(), "-o", (dir / "f.mp4").string(), "-q"}, -1,
                              writing("f.mp4"));
  EXPECT_EQ(file.exit_code, 130) << file.err;
  ExpectOneErrorLine(file);
  EXPECT_EQ(test::ListFiles(dir.path()), (std::vector<std::string>{"long.mp4", "s.mp4"}));
}

TEST(Cli, DetectWritesJsonOnly) {
  test::TempDir dir;
  const auto r = Standin({"detect", test::SamplePhoto("2008_002506.jpg").string(), "--json",
                          (dir / "d.json").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(test::ListFiles(dir.path()), std::vector<std::string>{"d.json"});
  const auto json = nlohmann::json::parse(test::ReadBytes(dir / "d.json"));
  EXPECT_EQ(json["files"][0]["faces"].size(), 3u);
  const auto stdout_run = Standin({"detect", test::SamplePhoto("2008_002506.jpg").string()});
  ASSERT_EQ(stdout_run.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(stdout_run.out)["files"][0]["faces"].size(), 3u);
}

TEST(Cli, DrawWritesAnOverlay) {
  test::TempDir dir;
  fs::copy_file(test::SamplePhoto("2008_002506.jpg"), dir / "p.jpg");
  const auto r = Standin({(dir / "p.jpg").string(), "--draw", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir / "p_detections.jpg"));
}

TEST(Cli, FolderRecursiveWithStructure) {
  test::TempDir dir;
  fs::create_directories(dir / "in" / "sub");
  fs::copy_file(test::SamplePhoto("2008_002506.jpg"), dir / "in" / "a.jpg");
  fs::copy_file(test::SamplePhoto("2009_004587.jpg"), dir / "in" / "sub" / "b.jpg");
  const auto r =
      Standin({(dir / "in").string(), "-o", (dir / "out").string(), "--method", "pixelate"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(test::ListFiles(dir / "out"), (std::vector<std::string>{"a.jpg", "sub/b.jpg"}));
}

TEST(Cli, VideoKeepsSizeRateFramesAndAudio) {
  test::TempDir dir;
  const auto src = test::MakeVideo(dir, "v.mp4", 15, 25, true);
  const auto r = Standin({src.string(), "-q", "--json", (dir / "v.json").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto info = io::ProbeVideo(dir / "v_anonymized.mp4");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->width, 640);
  EXPECT_EQ(info->height, 360);
  EXPECT_NEAR(info->fps, 25.0, 1e-6);
  EXPECT_EQ(info->frames, 15);
  EXPECT_TRUE(info->has_audio);
  const auto json = nlohmann::json::parse(test::ReadBytes(dir / "v.json"));
  EXPECT_EQ(json["files"][0]["frames"].size(), 15u);
  EXPECT_GE(json["files"][0]["frames"][0]["faces"].size(), 4u);

  const auto silent = Standin({src.string(), "-o", (dir / "silent.mp4").string(), "--no-audio"});
  ASSERT_EQ(silent.exit_code, 0) << silent.err;
  EXPECT_FALSE(io::ProbeVideo(dir / "silent.mp4")->has_audio);
}

TEST(Cli, StripsMetadataByDefault) {
  test::TempDir dir;
  fs::copy_file(test::SamplePhoto("2008_002506.jpg"), dir / "p.jpg");
  ASSERT_EQ(Standin({(dir / "p.jpg").string(), "-o", (dir / "o.jpg").string()}).exit_code, 0);
  // No EXIF (APP1) segment in the output.
  EXPECT_EQ(test::ReadBytes(dir / "o.jpg").find("Exif"), std::string::npos);
}

struct BadCase {
  std::string name;
  std::function<std::vector<std::string>(const test::TempDir&)> args;
  int exit_code;
};

TEST(Cli, BadInputsFailWithOneLineAndDistinctCodes) {
  const std::string jpeg = test::ReadBytes(test::SamplePhoto("2008_002506.jpg"));
  const std::vector<BadCase> cases = {
      {"missing",
       [](const test::TempDir& d) { return std::vector<std::string>{(d / "nope.jpg").string()}; },
       3},
      {"directory named .jpg",
       [](const test::TempDir& d) {
         fs::create_directories(d / "dir.jpg" / "x");
         test::WriteBytes(d / "dir.jpg" / "x" / "a.txt", "x");
         return std::vector<std::string>{(d / "dir.jpg").string()};
       },
       7},
      {"unreadable (a pipe named .jpg)",
       [](const test::TempDir& d) {
         mkfifo((d / "pipe.jpg").c_str(), 0600);
         return std::vector<std::string>{(d / "pipe.jpg").string()};
       },
       4},
      {"zero bytes",
       [](const test::TempDir& d) {
         test::WriteBytes(d / "z.jpg", "");
         return std::vector<std::string>{(d / "z.jpg").string()};
       },
       5},
      {"text named .jpg",
       [](const test::TempDir& d) {
         test::WriteBytes(d / "t.jpg", "hello");
         return std::vector<std::string>{(d / "t.jpg").string()};
       },
       5},
      {"truncated jpeg",
       [&](const test::TempDir& d) {
         test::WriteBytes(d / "c.jpg", jpeg.substr(0, jpeg.size() / 2));
         return std::vector<std::string>{(d / "c.jpg").string()};
       },
       5},
      {"corrupt mp4",
       [](const test::TempDir& d) {
         test::WriteBytes(d / "c.mp4", std::string(5000, 'x'));
         return std::vector<std::string>{(d / "c.mp4").string()};
       },
       5},
      {"unsupported extension",
       [](const test::TempDir& d) {
         test::WriteBytes(d / "a.gif", "GIF89a");
         return std::vector<std::string>{(d / "a.gif").string()};
       },
       6},
      {"folder without images",
       [](const test::TempDir& d) {
         fs::create_directory(d / "empty");
         return std::vector<std::string>{(d / "empty").string()};
       },
       7},
      {"output equals input",
       [&](const test::TempDir& d) {
         test::WriteBytes(d / "p.jpg", jpeg);
         return std::vector<std::string>{(d / "p.jpg").string(), "-o", (d / "p.jpg").string()};
       },
       8},
      {"output folder not writable",
       [&](const test::TempDir& d) {
         test::WriteBytes(d / "p.jpg", jpeg);
         test::WriteBytes(d / "afile", "x");
         return std::vector<std::string>{(d / "p.jpg").string(), "-o",
                                         (d / "afile" / "o.jpg").string()};
       },
       9},
  };
  for (const auto& c : cases) {
    test::TempDir dir;
    const auto args = c.args(dir);
    const auto before = test::ListFiles(dir.path());
    auto argv = args;
    argv.push_back("-q");
    const auto r = Standin(argv);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.name << ": " << r.err;
    ExpectOneErrorLine(r);
    EXPECT_EQ(test::ListFiles(dir.path()), before) << c.name << ": partial output left behind";
  }
}

TEST(Cli, DiskFullLeavesNoPartialOutput) {
  test::TempDir dir;
  fs::copy_file(test::SamplePhoto("2008_002470.jpg"), dir / "p.jpg");
  const auto src = test::MakeVideo(dir, "v.mp4", 30, 25, true);
  const auto before = test::ListFiles(dir.path());
  // A file size limit far below the outputs makes every write fail as on a full disk.
  const auto img = Standin({(dir / "p.jpg").string(), "-q"}, /*fsize_limit=*/8192);
  EXPECT_EQ(img.exit_code, 10) << img.err;
  ExpectOneErrorLine(img);
  const auto vid = Standin({src.string(), "-q"}, 8192);
  EXPECT_EQ(vid.exit_code, 10) << vid.err;
  ExpectOneErrorLine(vid);
  EXPECT_EQ(test::ListFiles(dir.path()), before);
}

TEST(Cli, MissingModelNamesTheFileAndTheFix) {
  test::TempDir dir;
  test::WriteBytes(dir / "manifest.json",
                   test::ReadBytes(fs::path(STANDIN_SOURCE_DIR) / "models/manifest.json"));
  fs::copy_file(test::SamplePhoto("2008_002506.jpg"), dir / "p.jpg");
  setenv("STANDIN_MODEL_DIR", dir.path().c_str(), 1);
  const auto r = Standin({(dir / "p.jpg").string(), "-o", (dir / "o.jpg").string()});
  unsetenv("STANDIN_MODEL_DIR");
  EXPECT_EQ(r.exit_code, 11);
  ExpectOneErrorLine(r);
  EXPECT_NE(r.err.find("blazeface_back_256.onnx"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("standin-fetch-models"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "o.jpg"));
}

// --second-recogniser takes one name (or a comma-separated list) per occurrence, so an input after
// it stays an input; each further recogniser takes its own margin, on its own scale.
TEST(Cli, FurtherRecognisersTakeOneMarginEach) {
  test::TempDir dir;
  const std::string in = test::SamplePhoto("2008_002506.jpg").string();
  const std::string out = (dir / "b.jpg").string();
  const auto ok = Standin({"-m", "blur", "--second-recogniser", "mobileface", in, "-o", out, "-q"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_TRUE(fs::exists(out));
  fs::remove(out);
  for (const std::vector<std::string>& bad : std::vector<std::vector<std::string>>{
           {"--second-recogniser", "mobileface,dlib-resnet", "--second-margin", "0.4"},
           {"--second-recogniser", "mobileface", "--second-stranger-percentile", "40,75"},
           {"--second-margin", "0.4"},
           {"--second-recogniser", "mobileface", "--second-recogniser", "mobileface"}}) {
    std::vector<std::string> args = {in, "-o", out, "-q"};
    args.insert(args.end(), bad.begin(), bad.end());
    const auto r = Standin(args);
    EXPECT_EQ(r.exit_code, 2) << bad[1];
    ExpectOneErrorLine(r);
    EXPECT_FALSE(fs::exists(out));
  }
}

// --strict-guard: MobileFace then dlib's ResNet judge after arcface, with 48 donors; what is
// given explicitly still applies.
TEST(Cli, StrictGuardSetsItsRecognisersDonorsAndFallback) {
  test::TempDir dir;
  const std::string in = test::SamplePhoto("2008_002506.jpg").string();
  for (const bool overridden : {false, true}) {
    std::vector<std::string> args = {
        in,       "-o", (dir / "s.jpg").string(), "--json", (dir / "s.json").string(), "-q",
        "--seed", "3",  "--strict-guard"};
    if (overridden) {
      args.insert(args.end(), {"--donors", "16", "--second-stranger-percentile", "60",
                               "--guard-fallback-scale", "1.5", "--donor-identity-weight", "0"});
    }
    fs::remove(dir / "s.jpg");
    const auto r = Standin(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto json = nlohmann::json::parse(test::ReadBytes(dir / "s.json"));
    const auto& g = json["identity_guard"];
    EXPECT_EQ(g["donors"].get<int>(), overridden ? 16 : 48);
    EXPECT_DOUBLE_EQ(g["fallback_scale"].get<double>(), overridden ? 1.5 : 1.3);
    EXPECT_DOUBLE_EQ(g["donor_identity_weight"].get<double>(), overridden ? 0.0 : 1.0);
    ASSERT_EQ(g["second"].size(), 2u);
    EXPECT_EQ(g["second"][0]["recogniser"], "mobileface");
    EXPECT_EQ(g["second"][1]["recogniser"], "dlib-resnet");
    EXPECT_DOUBLE_EQ(g["second"][0]["stranger_percentile"].get<double>(), overridden ? 60 : 40);
    EXPECT_DOUBLE_EQ(g["second"][1]["stranger_percentile"].get<double>(), overridden ? 60 : 75);
    for (const auto& f : json["files"][0]["faces"]) {
      ASSERT_TRUE(f.contains("identity_guard"));
      EXPECT_EQ(f["identity_guard"]["second"].size(), 2u);
    }
  }
}

TEST(Cli, UsageErrors) {
  EXPECT_EQ(Standin({}).exit_code, 2);
  EXPECT_EQ(Standin({"x.jpg", "--method", "nope"}).exit_code, 2);
  EXPECT_EQ(Standin({"--help"}).exit_code, 0);
}

}  // namespace
}  // namespace standin
