// The evaluation as JSON (every figure) and as Markdown (the tables people read).
#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "io/subprocess.hpp"
#include "standin/analysis.hpp"
#include "standin/evaluation.hpp"
#include "standin/io.hpp"

namespace standin::eval {
namespace {

// NaN (not measured) becomes null.
nlohmann::json Num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string Pct(double v) { return std::isfinite(v) ? fmt::format("{:.1f}%", 100 * v) : "-"; }
std::string Fix(double v, int digits) {
  return std::isfinite(v) ? fmt::format("{:.{}f}", v, digits) : "-";
}
// Whether any method's row of the report has what `has` looks for (a section is written then).
template <typename Has>
bool AnyRow(const EvalReport& r, const Has& has) {
  return std::any_of(r.rows.begin(), r.rows.end(), has);
}
// A rank-1 table cell with its 95% interval: " 3.2% (0.7% - 7.3%) |".
template <typename Scores>
std::string Rank1Cell(const Scores& s) {
  return fmt::format(" {} ({} - {}) |", Pct(s.rank1), Pct(s.rank1_low), Pct(s.rank1_high));
}

// A markdown table's head: `first`, one column per recogniser, then `last`; the rule below it.
std::string TableHead(const std::vector<std::string>& first,
                      const std::vector<std::string>& recognisers,
                      const std::vector<std::string>& last = {}) {
  std::string head = "|", rule = "|";
  for (const auto* group : {&first, &recognisers, &last}) {
    for (const auto& name : *group) {
      head += fmt::format(" {} |", name);
      rule += "---|";
    }
  }
  return head + "\n" + rule + "\n";
}

const MethodResult* Row(const EvalReport& r, const std::string& method) {
  for (const auto& row : r.rows) {
    if (row.method == method) return &row;
  }
  return nullptr;
}

}  // namespace

std::string EvalReportToJson(const EvalReport& r) {
  nlohmann::json j;
  j["seconds"] = r.seconds;
  j["reference_detector"] = r.reference_detector;
  j["recognisers"] = r.recognisers;
  j["false_accept_rate"] = r.far;
  for (const auto& [k, v] : r.verification_threshold) j["verification_threshold"][k] = Num(v);
  j["data"] = {{"detection",
                {{"source", r.detection_data},
                 {"labels", r.detection_labels},
                 {"images", r.detection_images},
                 {"faces", r.detection_faces}}},
               {"identity",
                {{"images", r.identity_images},
                 {"people", r.identity_people},
                 {"no_face_found", r.identity_missed}}},
               {"heldout_faces",
                {{"source", r.heldout_data},
                 {"faces", r.heldout_faces},
                 {"no_face_found", r.heldout_missed}}},
               {"memorisation_references", r.memorisation_references}};
  j["memorisation_domain_threshold"] = Num(r.memorisation_domain_threshold);
  j["skipped"] = r.skipped;
  j["detection_ms_per_image"] = Num(r.ms_detect_per_image);
  j["attribute_models_vs_labels"] = {
      {"age_mae", Num(r.original_age_mae_vs_label)},
      {"gender_accuracy", Num(r.original_gender_accuracy_vs_label)},
      {"independent",
       {{"model", "faceres"},
        {"age_mae", Num(r.judge_age_mae_vs_label)},
        {"gender_accuracy", Num(r.judge_gender_accuracy_vs_label)}}}};
  for (const auto& row : r.rows) {
    nlohmann::json m;
    m["detection"] = {{"ap", Num(row.ap)},
                      {"recall", Num(row.recall)},
                      {"ap_retention", Num(row.ap_retention)},
                      {"recall_retention", Num(row.recall_retention)}};
    for (const auto& [name, s] : row.reid) {
      m["reidentification"][name] = {{"verified", Num(s.verified)},
                                     {"rank1", Num(s.rank1)},
                                     {"mean_genuine_similarity", Num(s.mean_genuine_similarity)},
                                     {"chance_verified", Num(s.chance_verified)},
                                     {"chance_rank1", Num(s.chance_rank1)},
                                     {"threshold", Num(s.threshold)},
                                     {"faces", s.faces},
                                     {"rank1_interval95", {Num(s.rank1_low), Num(s.rank1_high)}},
                                     {"rank1_hits_by_person", s.rank1_hits_by_person},
                                     {"probes_by_person", s.probes_by_person}};
    }
    if (!row.reid_painted.empty()) {
      m["painted"]["share"] = Num(row.painted_share);
      for (const auto& [name, p] : row.reid_painted) {
        m["painted"]["rank1"][name] = {{"probes", p.probes},
                                       {"rank1", Num(p.rank1)},
                                       {"chance_rank1", Num(p.chance_rank1)},
                                       {"rank1_interval95", {Num(p.rank1_low), Num(p.rank1_high)}}};
      }
    }
    for (const auto& [name, p] : row.same_photo) {
      m["same_photo"][name] = {{"faces", p.faces},
                               {"threshold", Num(p.threshold)},
                               {"mean_similarity", Num(p.mean_similarity)},
                               {"verified", Num(p.verified)}};
    }
    m["pose"] = {{"landmark_nme", Num(row.landmark_nme)},
                 {"head_pose_error_deg",
                  {{"yaw", Num(row.yaw_error)},
                   {"pitch", Num(row.pitch_error)},
                   {"roll", Num(row.roll_error)}}}};
    m["attributes"] = {{"age_mae_years", Num(row.age_mae)},
                       {"gender_agreement", Num(row.gender_agreement)},
                       {"expression_agreement", Num(row.expression_agreement)},
                       {"independent",
                        {{"model", "faceres"},
                         {"age_mae_years", Num(row.judged_age_mae)},
                         {"gender_agreement", Num(row.judged_gender_agreement)}}}};
    for (const auto& [name, v] : row.frechet) m["realism"]["frechet"][name] = Num(v);
    m["realism"]["reference_detector_confidence"] = Num(row.detector_confidence);
    m["realism"]["reference_detector_found"] = Num(row.detector_found);
    m["memorisation"] = {{"max_similarity", Num(row.memorisation_max)},
                         {"median_similarity", Num(row.memorisation_median)},
                         {"share_above_threshold", Num(row.memorisation_share)},
                         {"share_above_domain_threshold", Num(row.memorisation_share_domain)}};
    m["speed"] = {{"ms_per_face", Num(row.ms_per_face)}, {"ms_per_image", Num(row.ms_per_image)}};
    if (row.guard_faces > 0) {
      m["identity_guard"] = {{"faces", row.guard_faces},
                             {"margin", Num(row.guard_margin)},
                             {"margin_max", Num(row.guard_margin_max)},
                             {"passed", Num(row.guard_passed)},
                             {"donors", Num(row.guard_donors)},
                             {"mean_similarity", Num(row.guard_mean_similarity)},
                             {"max_similarity", Num(row.guard_max_similarity)},
                             {"candidates_per_face", Num(row.guard_candidates)},
                             {"rejected_share", Num(row.guard_rejected)}};
    }
    j["methods"][row.method] = m;
  }
  j["method_order"] = nlohmann::json::array();
  for (const auto& row : r.rows) j["method_order"].push_back(row.method);
  return j.dump(2);
}

std::string EvalReportToMarkdown(const EvalReport& r) {
  std::string md = "# standin eval\n\n";
  md += fmt::format(
      "Measured in {:.0f} s on this machine. Reference detector (not standin's own): "
      "{}. Recognisers: {}.\n\n",
      r.seconds, r.reference_detector, fmt::join(r.recognisers, ", "));
  const std::string rec0 = r.recognisers.empty() ? "" : r.recognisers[0];
  const std::string rec1 = r.recognisers.size() > 1 ? r.recognisers[1] : "";

  md += "## Summary\n\n";
  md +=
      "| method | AP retention | re-id verified | re-id rank-1 | pose NME | head pose err. yaw / "
      "pitch / roll (°) | age diff (y) | gender kept | expression kept | age diff / gender kept, "
      "independent judge | Fréchet (" +
      rec0 + ") | ref. detector finds | ms / face |\n";
  md += "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& row : r.rows) {
    std::string ver, r1;
    for (const auto& name : r.recognisers) {
      const auto it = row.reid.find(name);
      if (it == row.reid.end()) continue;
      ver += (ver.empty() ? "" : " / ") + Pct(it->second.verified);
      r1 += (r1.empty() ? "" : " / ") + Pct(it->second.rank1);
    }
    const auto fd = row.frechet.find(rec0);
    md += fmt::format(
        "| {} | {} | {} | {} | {} | {} / {} / {} | {} | {} | {} | {} / {} | {} | {} | {} |\n",
        row.method, Pct(row.ap_retention), ver.empty() ? "-" : ver, r1.empty() ? "-" : r1,
        Fix(row.landmark_nme, 3), Fix(row.yaw_error, 1), Fix(row.pitch_error, 1),
        Fix(row.roll_error, 1), Fix(row.age_mae, 1), Pct(row.gender_agreement),
        Pct(row.expression_agreement), Fix(row.judged_age_mae, 1), Pct(row.judged_gender_agreement),
        fd == row.frechet.end() ? "-" : Fix(fd->second, 3), Pct(row.detector_found),
        Fix(row.ms_per_face, 1));
  }
  if (!r.rows.empty() && !r.rows[0].reid.empty()) {
    const auto& s = r.rows[0].reid.begin()->second;
    md += fmt::format(
        "\nRe-identification is given per recogniser ({}). Chance level: verified {} (the "
        "false-accept rate that sets the threshold), rank-1 {}. Lower is better for "
        "anonymization; the original row is what the recognisers do on untouched faces.\n",
        fmt::join(r.recognisers, " / "), Pct(s.chance_verified), Pct(s.chance_rank1));
    const auto guard = GuardRecogniserNames();
    std::vector<std::string> held_out;
    for (const auto& name : r.recognisers) {
      if (std::find(guard.begin(), guard.end(), name) == guard.end()) held_out.push_back(name);
    }
    if (!held_out.empty()) {
      md += fmt::format(
          "The identity guard never consults {}: its figures were not tuned against, unlike "
          "those of the guard's recogniser (arcface by default).\n",
          fmt::join(held_out, " or "));
    }
    md += fmt::format(
        "\nRank-1 with its 95% interval, people resampled (a person's photos share "
        "surroundings and light, so hits come in clusters); an interval whose lower end is above "
        "chance ({}) is above chance:\n\n",
        Pct(s.chance_rank1));
    md += TableHead({"method"}, r.recognisers);
    for (const auto& row : r.rows) {
      if (row.reid.empty()) continue;
      md += fmt::format("| {} |", row.method);
      for (const auto& name : r.recognisers) {
        const auto it = row.reid.find(name);
        md += it == row.reid.end() ? " - |" : Rank1Cell(it->second);
      }
      md += "\n";
    }
    if (AnyRow(r, [](const auto& row) { return !row.reid_painted.empty(); })) {
      md +=
          "\nThe same over the probes whose face was painted (a stand-in, or the control's "
          "stranger; not the guard's fallback, which is rarely named, and not the photos where "
          "standin found no face), with that share and the chance level of those probes:\n\n";
      md += TableHead({"method", "painted"}, r.recognisers, {"chance"});
      for (const auto& row : r.rows) {
        if (row.reid_painted.empty()) continue;
        md += fmt::format("| {} | {} |", row.method, Pct(row.painted_share));
        double chance = kNaN;
        for (const auto& name : r.recognisers) {
          const auto it = row.reid_painted.find(name);
          if (it == row.reid_painted.end()) {
            md += " - |";
            continue;
          }
          chance = it->second.chance_rank1;
          md += Rank1Cell(it->second);
        }
        md += fmt::format(" {} |\n", Pct(chance));
      }
    }
  }

  if (AnyRow(r, [](const auto& row) { return row.guard_faces > 0; })) {
    md += "\n## Identity guard: the privacy receipts\n\n";
    md +=
        "| method | faces | margin: mean / max | stand-in below margin | of which donors | "
        "similarity to original: mean / max | candidates per face | candidates rejected "
        "|\n|---|---|---|---|---|---|---|---|\n";
    for (const auto& row : r.rows) {
      if (row.guard_faces == 0) continue;
      md += fmt::format("| {} | {} | {} / {} | {} | {} | {} / {} | {} | {} |\n", row.method,
                        row.guard_faces, Fix(row.guard_margin, 3), Fix(row.guard_margin_max, 3),
                        Pct(row.guard_passed), Pct(row.guard_donors),
                        Fix(row.guard_mean_similarity, 3), Fix(row.guard_max_similarity, 3),
                        Fix(row.guard_candidates, 1), Pct(row.guard_rejected));
    }
    md +=
        "\nEvery face of the re-identification and held-out sections, as the receipts of `standin "
        "--json` give them: the similarity (judging recogniser) of the chosen stand-in to the "
        "face it replaced; faces with no candidate below the margin got the fallback method.\n";
  }

  if (AnyRow(r, [](const auto& row) { return !row.same_photo.empty(); })) {
    md +=
        "\n## The same photo: each held-out face against its own original\n\nHeld-out faces "
        "carry no identity labels, so the one pair known to be the same person is a face and its "
        "own anonymized copy: the strongest attacker (same photo, light and surroundings), in "
        "colour. Share accepted by a verifier whose threshold lets through " +
        Pct(r.far) +
        " of pairs of different held-out originals (taken as strangers), and the mean "
        "similarity:\n\n" +
        TableHead({"method"}, r.recognisers) + "| threshold |";
    const MethodResult& first = r.rows.front();
    for (const auto& name : r.recognisers) {
      const auto it = first.same_photo.find(name);
      md += fmt::format(" {} |", it == first.same_photo.end() ? "-" : Fix(it->second.threshold, 3));
    }
    md += "\n";
    for (const auto& row : r.rows) {
      if (row.same_photo.empty()) continue;
      md += fmt::format("| {} |", row.method);
      for (const auto& name : r.recognisers) {
        const auto it = row.same_photo.find(name);
        md += it == row.same_photo.end() ? " - |"
                                         : fmt::format(" {} ({}) |", Pct(it->second.verified),
                                                       Fix(it->second.mean_similarity, 3));
      }
      md += "\n";
    }
  }

  md += "\n## Detection retention beside DeepPrivacy\n\n";
  md += "| | generated faces | 8x8 pixelation | heavy blur | black-out |\n|---|---|---|---|---|\n";
  md +=
      "| DeepPrivacy, published (their data: WIDER FACE validation, DSFD detector) | 99.3% | "
      "96.7% | 90.5% | 41.4% |\n";
  auto ret = [&](const char* m) {
    const MethodResult* row = Row(r, m);
    return row ? Pct(row->ap_retention) : std::string("-");
  };
  md +=
      fmt::format("| standin, this run ({} photos, {} faces, {} reference) | {} | {} | {} | {} |\n",
                  r.detection_images, r.detection_faces, r.reference_detector, ret("generate"),
                  ret("pixelate"), ret("blur"), ret("solid"));
  md +=
      "\nAP retention = AP on the anonymized images / AP on the originals, same labels, same "
      "reference detector, IoU >= 0.4.\n";

  md += "\n## Details\n\n| method | AP | recall | recall retention |";
  for (const auto& name : r.recognisers) md += fmt::format(" {} genuine sim. |", name);
  if (!rec1.empty()) md += fmt::format(" Fréchet ({}) |", rec1);
  md +=
      " ref. detector confidence | nearest training face: median / max sim. | above att thr. | "
      "above domain thr. | "
      "ms / image |\n";
  const std::size_t columns = 9 + r.recognisers.size() + (rec1.empty() ? 0 : 1);
  for (std::size_t k = 0; k < columns; ++k) md += "|---";
  md += "|\n";
  for (const auto& row : r.rows) {
    md += fmt::format("| {} | {} | {} | {} |", row.method, Fix(row.ap, 3), Pct(row.recall),
                      Pct(row.recall_retention));
    for (const auto& name : r.recognisers) {
      const auto it = row.reid.find(name);
      md += fmt::format(" {} |",
                        it == row.reid.end() ? "-" : Fix(it->second.mean_genuine_similarity, 3));
    }
    if (!rec1.empty()) {
      const auto fd = row.frechet.find(rec1);
      md += fmt::format(" {} |", fd == row.frechet.end() ? "-" : Fix(fd->second, 3));
    }
    md += fmt::format(" {} | {} | {} | {} | {} |\n", Fix(row.detector_confidence, 3),
                      Fix(row.memorisation_median, 3) + " / " + Fix(row.memorisation_max, 3),
                      Pct(row.memorisation_share), Pct(row.memorisation_share_domain),
                      Fix(row.ms_per_image, 1));
  }

  md += "\n## Data and definitions\n\n";
  md += fmt::format(
      "- Detection: {} ({} images, {} faces; labels: {}). Standin's own detection and "
      "landmarks: {:.1f} ms per image, not included in the methods' times.\n",
      r.detection_data, r.detection_images, r.detection_faces, r.detection_labels,
      r.ms_detect_per_image);
  md += fmt::format(
      "- Re-identification: att-faces, {} images of {} people (upscaled 3x; {} with "
      "no face found stay untouched and count against every method). Verification: "
      "anonymized face vs the person's other original images, threshold at {} "
      "false accepts on clean impostor pairs. Rank-1: best match among all other "
      "originals.\n",
      r.identity_images, r.identity_people, r.identity_missed, Pct(r.far));
  md += fmt::format(
      "- Held-out faces ({}): {} faces ({} "
      "images with no face found). Pose: mean landmark error of an independent "
      "68-point model (faceplugin fr_landmark), normalised by the outer-eye-corner "
      "distance. Attributes: faceplugin fr_age / fr_gender / fr_expression on the "
      "original vs the anonymized face (on the originals vs the labels: age MAE "
      "{} years, gender accuracy {}). They are the networks the identity guard chooses with; the "
      "independent judge, FaceRes (HSE multi-task MobileNet), is not (age MAE {} years, gender "
      "accuracy {}).\n",
      r.heldout_data, r.heldout_faces, r.heldout_missed, Fix(r.original_age_mae_vs_label, 1),
      Pct(r.original_gender_accuracy_vs_label), Fix(r.judge_age_mae_vs_label, 1),
      Pct(r.judge_gender_accuracy_vs_label));
  md +=
      "- Realism: Fréchet distance between identity embeddings of held-out real faces (even "
      "indices, originals) and each method's faces (odd indices), so no face meets its own "
      "original; the original row is the floor between two halves of real faces.\n"
      "- Ref. detector finds (held-out faces): the original row is the share of faces the "
      "reference detector finds (score >= 0.5, overlapping standin's box by IoU >= 0.4); a "
      "method's row is the share of those it finds again in the method's output (score >= 0.5, "
      "IoU >= 0.5 with its own box on the original). Ref. detector confidence: its score at "
      "standin's box (IoU >= 0.4), 0 when none.\n";
  md += fmt::format(
      "- Memorisation: each face's highest {} similarity to any of {} training images; share "
      "above the verification threshold (att-faces, {}) and above a threshold calibrated on "
      "UTKFace itself ({:.3f}: {} of pairs of different held-out faces exceed it). Both are "
      "per-pair thresholds: searched against thousands of training faces, even unseen real faces "
      "(the original row; UTKFace also holds several photos of some people, across the split) "
      "clear them by chance, so the test of memorisation is the comparison: a generator that "
      "copied its training faces would come closer to them than unseen real faces do.\n",
      rec0, r.memorisation_references,
      Fix(r.verification_threshold.count(rec0) ? r.verification_threshold.at(rec0) : kNaN, 3),
      r.memorisation_domain_threshold, Pct(r.far));
  for (const auto& s : r.skipped) md += "- Skipped: " + s + "\n";
  return md;
}

Expected<std::string> WriteEvaluation(const EvalReport& report, const std::filesystem::path& dir,
                                      const std::filesystem::path& chart_script) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return Status(ErrorCode::kOutputNotWritable,
                  fmt::format("{}: cannot create: {}", dir.string(), ec.message()));
  }
  auto text = [](const std::string& s) { return std::vector<std::uint8_t>(s.begin(), s.end()); };
  if (Status s = io::WriteFileAtomic(dir / "eval.json", text(EvalReportToJson(report))); !s.ok()) {
    return s;
  }
  if (Status s = io::WriteFileAtomic(dir / "report.md", text(EvalReportToMarkdown(report)));
      !s.ok()) {
    return s;
  }
  if (!report.montage.empty()) {
    if (Status s = io::WriteImage(dir / "montage.png", report.montage); !s.ok()) return s;
  }
  if (chart_script.empty()) return std::string("no chart script given");
  // Run as a program: its #! line names the Python that has matplotlib (Debian's).
  auto out = io::RunCapture(
      {chart_script.string(), (dir / "eval.json").string(), (dir / "charts").string()});
  if (!out.ok()) return fmt::format("charts not drawn: {}", out.status().message());
  return std::string();
}

}  // namespace standin::eval
