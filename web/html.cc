#include "web/html.h"

#include <cctype>

namespace gpuq {

void AppendHtmlEscaped(std::string* out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&':
        out->append("&amp;");
        break;
      case '<':
        out->append("&lt;");
        break;
      case '>':
        out->append("&gt;");
        break;
      case '"':
        out->append("&quot;");
        break;
      case '\'':
        out->append("&#39;");
        break;
      default:
        out->push_back(c);
    }
  }
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  AppendHtmlEscaped(&out, text);
  return out;
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Html& Html::Elem(std::string_view tag, std::string_view text) {
  out_.push_back('<');
  out_.append(tag);
  out_.push_back('>');
  AppendHtmlEscaped(&out_, text);
  out_.append("</");
  out_.append(tag.substr(0, tag.find(' ')));
  out_.push_back('>');
  return *this;
}

Html& Html::Hidden(std::string_view name, std::string_view value) {
  out_.append("<input type=\"hidden\" name=\"");
  AppendHtmlEscaped(&out_, name);
  out_.append("\" value=\"");
  AppendHtmlEscaped(&out_, value);
  out_.append("\">");
  return *this;
}

void FieldError(Html& h, const std::map<std::string, std::string>& errors, std::string_view field) {
  if (auto it = errors.find(std::string(field)); it != errors.end()) {
    h.Raw("<span class=\"field-error\" data-field=\"")
        .Text(field)
        .Raw("\">")
        .Text(it->second)
        .Raw("</span>");
  }
}

}  // namespace gpuq
