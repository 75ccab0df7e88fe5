#ifndef GPUQ_WEB_I18N_H_
#define GPUQ_WEB_I18N_H_

// The panel's messages in English and Simplified Chinese. Catalogues are embedded text
// files (web/i18n/en.txt, zh.txt), one "key = text" per line; '#' starts a comment line.
// A key missing from a catalogue falls back to English, then to the key itself, so a
// missing translation shows up as readable text, never as a crash.

#include <map>
#include <string>
#include <string_view>

namespace gpuq {

// Parses a catalogue's text. Lines without " = " and comment lines are skipped.
std::map<std::string, std::string, std::less<>> ParseCatalogue(std::string_view text);

// "en" or "zh": the user's own choice when set ("en"/"zh"), else the first language of the
// browser's Accept-Language (by q value) that gpuq speaks, else "en".
std::string PickLanguage(std::string_view user_lang, std::string_view accept_language);

// Looks messages up in one language. Cheap to copy; catalogues are parsed once per process.
class Translator {
 public:
  explicit Translator(std::string_view lang);
  // The message for `key`; never fails (see above).
  std::string_view operator()(std::string_view key) const;
  const std::string& lang() const { return lang_; }

 private:
  std::string lang_;
  const std::map<std::string, std::string, std::less<>>* messages_;
  const std::map<std::string, std::string, std::less<>>* fallback_;
};

}  // namespace gpuq

#endif  // GPUQ_WEB_I18N_H_
