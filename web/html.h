#ifndef GPUQ_WEB_HTML_H_
#define GPUQ_WEB_HTML_H_

// Building the panel's HTML so that nothing a user typed can become markup: text goes in
// through Text() (escaped), markup written by gpuq through Raw(). Pure; never throws.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace gpuq {

// & < > " ' escaped as entities; safe in element text and in quoted attribute values.
std::string HtmlEscape(std::string_view text);
void AppendHtmlEscaped(std::string* out, std::string_view text);

// Percent-encodes everything but unreserved characters (RFC 3986), for query values.
std::string UrlEncode(std::string_view text);

// An HTML document or fragment being written.
class Html {
 public:
  // Markup written by gpuq itself; never pass user data here.
  Html& Raw(std::string_view markup) {
    out_.append(markup);
    return *this;
  }
  // Anything else: names, commands, errors, log text.
  Html& Text(std::string_view text) {
    AppendHtmlEscaped(&out_, text);
    return *this;
  }
  Html& Num(int64_t n) {
    out_.append(std::to_string(n));
    return *this;
  }
  // <tag>text</tag>, text escaped (tag is gpuq's, e.g. "td", "th class=\"num\"").
  Html& Elem(std::string_view tag, std::string_view text);
  // A hidden form field with an escaped value.
  Html& Hidden(std::string_view name, std::string_view value);

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// The error of form field `field`, if `errors` has one, as the span the forms and the
// browser test look for (class field-error, data-field naming the field).
void FieldError(Html& h, const std::map<std::string, std::string>& errors, std::string_view field);

}  // namespace gpuq

#endif  // GPUQ_WEB_HTML_H_
