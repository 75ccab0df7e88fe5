#include "web/i18n.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <vector>

#include "common/embedded_file.h"

namespace gpuq {

extern const EmbeddedFile kPanelI18n[];
extern const int kPanelI18nCount;

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

using Catalogue = std::map<std::string, std::string, std::less<>>;

const Catalogue& CatalogueFor(std::string_view lang) {
  static const std::map<std::string, Catalogue, std::less<>> all = [] {
    std::map<std::string, Catalogue, std::less<>> m;
    for (int i = 0; i < kPanelI18nCount; ++i) {
      std::string_view name = kPanelI18n[i].name;  // "en.txt"
      m[std::string(name.substr(0, name.find('.')))] = ParseCatalogue(kPanelI18n[i].contents);
    }
    return m;
  }();
  static const Catalogue empty;
  auto it = all.find(lang);
  return it == all.end() ? empty : it->second;
}

}  // namespace

Catalogue ParseCatalogue(std::string_view text) {
  Catalogue out;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    line = Trim(line);
    if (line.empty() || line.front() == '#') continue;
    size_t eq = line.find(" = ");
    if (eq == std::string_view::npos) continue;
    out[std::string(Trim(line.substr(0, eq)))] = std::string(Trim(line.substr(eq + 3)));
  }
  return out;
}

std::string PickLanguage(std::string_view user_lang, std::string_view accept_language) {
  if (user_lang == "en" || user_lang == "zh") return std::string(user_lang);
  // "zh-CN,zh;q=0.9,en;q=0.8": the highest q among the languages gpuq speaks; the earlier
  // one wins a tie.
  std::string best = "en";
  double best_q = -1;
  while (!accept_language.empty()) {
    size_t comma = accept_language.find(',');
    std::string_view item = Trim(accept_language.substr(0, comma));
    accept_language =
        comma == std::string_view::npos ? std::string_view() : accept_language.substr(comma + 1);
    std::string_view tag = Trim(item.substr(0, item.find(';')));
    double q = 1.0;
    if (size_t qpos = item.find(";q="); qpos != std::string_view::npos) {
      std::string qtext(Trim(item.substr(qpos + 3)));
      char* end = nullptr;
      q = std::strtod(qtext.c_str(), &end);
      if (end == qtext.c_str()) q = 0;
    }
    std::string primary(tag.substr(0, tag.find('-')));
    std::transform(primary.begin(), primary.end(), primary.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if ((primary == "en" || primary == "zh") && q > 0 && q > best_q) {
      best = primary;
      best_q = q;
    }
  }
  return best;
}

Translator::Translator(std::string_view lang)
    : lang_(lang == "zh" ? "zh" : "en"),
      messages_(&CatalogueFor(lang_)),
      fallback_(&CatalogueFor("en")) {}

std::string_view Translator::operator()(std::string_view key) const {
  if (auto it = messages_->find(key); it != messages_->end()) return it->second;
  if (auto it = fallback_->find(key); it != fallback_->end()) return it->second;
  return key;
}

}  // namespace gpuq
