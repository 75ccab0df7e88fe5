#include "web/panel_notify_form.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace gpuq {
namespace {

using nlohmann::json;

std::string Trim(std::string s) {
  const char* space = " \t\r\n";
  size_t first = s.find_first_not_of(space);
  if (first == std::string::npos) return "";
  s.erase(s.find_last_not_of(space) + 1);
  return s.substr(first);
}

// 30 -> "30", 0.5 -> "0.5".
std::string ShowNumber(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
    return std::to_string(static_cast<int64_t>(v));
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

// The shown value at "smtp.host" (-> shown["smtp"]["host"]) or "public_url".
const json* At(const json& shown, const std::string& field) {
  const json* node = &shown;
  size_t start = 0;
  while (true) {
    size_t dot = field.find('.', start);
    std::string part = field.substr(start, dot == std::string::npos ? dot : dot - start);
    if (!node->is_object()) return nullptr;
    auto it = node->find(part);
    if (it == node->end()) return nullptr;
    node = &*it;
    if (dot == std::string::npos) return node;
    start = dot + 1;
  }
}

// A whole number as JSON, or the text as typed (for the API's check to refuse).
json WholeOrText(const std::string& text) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc() && ptr == text.data() + text.size()) return v;
  return text;
}

json NumberOrText(const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() + text.size() && std::isfinite(v) &&
      text.find_first_of("xXpP") == std::string::npos) {  // no hex floats
    return v;
  }
  return text;
}

void Put(json& body, const std::string& field, json value) {
  if (size_t dot = field.find('.'); dot != std::string::npos) {
    body[field.substr(0, dot)][field.substr(dot + 1)] = std::move(value);
  } else {
    body[field] = std::move(value);
  }
}

}  // namespace

FormText NotifySettingsFormText(const json& shown) {
  FormText out;
  for (const char* field : kNotifySettingsFields) {
    const json* v = At(shown, field);
    if (v == nullptr || v->is_null()) {
      out[field] = "";
    } else if (v->is_string()) {
      out[field] = v->get<std::string>();
    } else if (v->is_number()) {
      out[field] = ShowNumber(v->get<double>());
    } else {
      out[field] = v->dump();
    }
  }
  return out;
}

std::string NotifySettingSource(const json& shown, const std::string& field) {
  std::string key = field;
  for (char& c : key) c = c == '.' ? '_' : c;
  auto source = shown.find("source");
  if (source == shown.end() || !source->is_object()) return "";
  auto it = source->find(key);
  return it != source->end() && it->is_string() ? it->get<std::string>() : "";
}

json NotifySettingsBody(const FormText& typed, const FormText& shown, const std::string& password,
                        bool clear_password) {
  json body = json::object();
  for (const char* field : kNotifySettingsFields) {
    auto t = typed.find(field);
    if (t == typed.end()) continue;  // not on the form: left as it is
    const std::string text = Trim(t->second);
    auto s = shown.find(field);
    if (s != shown.end() && Trim(s->second) == text) continue;
    const std::string name = field;
    if (text.empty()) {
      Put(body, name, nullptr);
    } else if (name == "smtp.port") {
      Put(body, name, WholeOrText(text));
    } else if (name == "gpu_idle_minutes") {
      Put(body, name, NumberOrText(text));
    } else {
      Put(body, name, text);
    }
  }
  // The password is taken as typed: spaces may be part of it.
  if (!password.empty()) {
    Put(body, kSmtpPasswordField, password);
  } else if (clear_password) {
    Put(body, kSmtpPasswordField, nullptr);
  }
  return body;
}

std::vector<std::pair<std::string, json>> SplitNotifySettingsBody(const json& body) {
  std::vector<std::pair<std::string, json>> out;
  if (!body.is_object()) return out;
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (it->is_object()) {
      for (auto inner = it->begin(); inner != it->end(); ++inner) {
        json one = json::object();
        one[it.key()][inner.key()] = *inner;
        out.emplace_back(it.key() + "." + inner.key(), std::move(one));
      }
    } else {
      json one = json::object();
      one[it.key()] = *it;
      out.emplace_back(it.key(), std::move(one));
    }
  }
  return out;
}

json TargetBody(const TargetForm& form) {
  return {{"name", Trim(form.name)}, {"kind", form.kind},     {"address", Trim(form.address)},
          {"format", form.format},   {"events", form.events}, {"enabled", true}};
}

json MyNotificationsBody(const std::string& email, const std::string& notify_default) {
  return {{"email", Trim(email)}, {"notify_default", notify_default}};
}

}  // namespace gpuq
