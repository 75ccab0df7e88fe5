#include "web/html.h"

#include <gtest/gtest.h>

namespace gpuq {
namespace {

TEST(HtmlTest, EscapesEveryCharacterThatCanOpenMarkupOrCloseAnAttribute) {
  struct Case {
    const char* in;
    const char* out;
  } cases[] = {
      {"", ""},
      {"plain text 中文", "plain text 中文"},
      {"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
      {"a & b", "a &amp; b"},
      {"\" onmouseover=\"x", "&quot; onmouseover=&quot;x"},
      {"it's", "it&#39;s"},
      {"&amp;", "&amp;amp;"},  // escaped again: text is never taken as markup
  };
  for (const Case& c : cases) EXPECT_EQ(HtmlEscape(c.in), c.out) << c.in;
}

TEST(HtmlTest, TextIsEscapedRawIsNot) {
  Html h;
  h.Raw("<td>").Text("<b>").Raw("</td>").Num(-42);
  EXPECT_EQ(h.str(), "<td>&lt;b&gt;</td>-42");
}

TEST(HtmlTest, ElemClosesWithTheTagNameOnly) {
  Html h;
  h.Elem("td class=\"num\"", "1<2");
  EXPECT_EQ(h.str(), "<td class=\"num\">1&lt;2</td>");
}

TEST(HtmlTest, HiddenEscapesNameAndValue) {
  Html h;
  h.Hidden("csrf_token", "a\"><script>");
  EXPECT_EQ(h.str(),
            "<input type=\"hidden\" name=\"csrf_token\" value=\"a&quot;&gt;&lt;script&gt;\">");
}

TEST(HtmlTest, UrlEncodeKeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(UrlEncode("abc-_.~09"), "abc-_.~09");
  EXPECT_EQ(UrlEncode("/admin?x=1&y=2"), "%2Fadmin%3Fx%3D1%26y%3D2");
  EXPECT_EQ(UrlEncode("a b\n"), "a%20b%0A");
  EXPECT_EQ(UrlEncode("中"), "%E4%B8%AD");
}

}  // namespace
}  // namespace gpuq
