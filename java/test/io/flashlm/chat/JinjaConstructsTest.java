package io.flashlm.chat;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static io.flashlm.chat.Templates.twoTurns;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Python and Jinja constructs chat templates use, and clear failures for those Jinjava lacks. */
class JinjaConstructsTest {

    private static String render(String template) {
        return ChatTemplate.compile(template, "test.jinja").render(twoTurns(), "<s>", "</s>", true);
    }

    private static void assertFailsNaming(String template, String... words) {
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> render(template));
        assertTrue(e.getMessage().contains("test.jinja"), e.getMessage());
        for (String w : words) {
            assertTrue(e.getMessage().contains(w), "'" + w + "' not in: " + e.getMessage());
        }
    }

    @Test
    void pythonStringMethods() {
        assertEquals("ab|True|False|x y|a,b,,c|B|HI|Hello World",
                render("{{ '  ab  '.strip() }}|{{ 'abc'.startswith('a') | string | capitalize }}"
                        + "|{{ 'abc'.endswith(('x', 'y')) | string | capitalize }}|{{ ' x  y '.split() | join(' ') }}"
                        + "|{{ 'a.b..c'.split('.') | join(',') }}|{{ 'abc'[1:2].upper() }}|{{ 'hi'.upper() }}"
                        + "|{{ 'hello world'.title() }}"));
        assertEquals("xx|ab|a-b|2|[a]", render("{{ 'xxab'.rstrip('ab') }}|{{ 'xxab'.lstrip('x') }}"
                + "|{{ '-'.join(['a', 'b']) }}|{{ 'abcb'.find('c') }}|[{{ {'k': 'a'}.get('k', 'z') }}]"));
    }

    @Test
    void messagesByIndexLoopVariablesAndNamespace() {
        assertEquals("system|first:user|last:user|3",
                render("{{ messages[0]['role'] }}|{% for m in messages %}{% if loop.first %}first:{% endif %}"
                        + "{% if loop.index0 == 1 %}{{ m.role }}{% endif %}{% endfor %}|{% for m in messages %}"
                        + "{% if loop.last %}last:{{ m.role }}{% endif %}{% endfor %}|{% set ns = namespace(n=0) %}"
                        + "{% for m in messages %}{% if m.role != 'user' %}{% set ns.n = ns.n + 1 %}{% endif %}"
                        + "{% endfor %}{{ ns.n + 1 }}"));
    }

    @Test
    void tojsonWritesAsPythonsJsonDumps() {
        String t = "{{ {'name': 'f', 'args': [1, 'x\"y'], 'ok': true, 'none': none} | tojson }}";
        assertEquals("{\"name\": \"f\", \"args\": [1, \"x\\\"y\"], \"ok\": true, \"none\": null}", render(t));
        assertEquals("{\n  \"a\": [\n    1\n  ]\n}", render("{{ {'a': [1]} | tojson(indent=2) }}"));
    }

    @Test
    void unknownFilterIsNamed() {
        assertFailsNaming("{{ messages[0].content | shout }}", "filter 'shout'");
    }

    @Test
    void unknownTestIsNamed() {
        assertFailsNaming("{% if messages is sequencey %}x{% endif %}", "test 'is sequencey'");
    }

    @Test
    void unknownTagIsNamed() {
        assertFailsNaming("{% assistant_mask %}x{% endassistant_mask %}", "Unknown tag: assistant_mask");
    }

    @Test
    void generationBlockRendersItsBody() {
        assertEquals("<a>Hi! How can I help you today?</a>", render("{% for m in messages %}{% if m.role == 'assistant'"
                + " %}<a>{% generation %}{{ m.content }}{% endgeneration %}</a>{% endif %}{% endfor %}"));
    }

    @Test
    void stringsAndMappingsAreIterableAndSequencesAsInPython() {
        assertEquals("true|true|true|true|false|b", render("{{ 'abc' is iterable }}|{{ 'abc' is sequence }}"
                + "|{{ messages[0] is iterable }}|{{ messages is sequence }}|{{ 3 is iterable }}"
                + "|{{ 'a</think>b'.split('</think>')[-1] }}"));
    }

    @Test
    void unknownFunctionIsNamed() {
        assertFailsNaming("{{ render_tools(messages) }}", "Could not resolve function 'render_tools'");
    }

    @Test
    void anUnknownFilterInABranchThatDoesNotRunIsFine() {
        assertEquals("ok", render("{% if false %}{{ x | shout }}{% endif %}ok"));
    }

    @Test
    void loopFilterKeepsTheItemsThatPassAndLoopCountsThem() {
        assertEquals("user:1:False,user:2:True,", render("{% for m in messages if m.role == 'user' %}{{ m.role }}:"
                + "{{ loop.index }}:{{ loop.last | string | capitalize }},{% endfor %}"));
        assertEquals("content,", render("{% for key, val in messages[0].items() if key != \"role\" %}{{ key }},"
                + "{% endfor %}"));
        assertEquals("a", render("{% for s in ['a', 'b if c'] if s != 'b if c' %}{{ s }}{% endfor %}"));
    }

    @Test
    void itemsFilter() {
        assertEquals("k=v;", render("{% for k, v in {'k': 'v'} | items %}{{ k }}={{ v }};{% endfor %}"));
    }

    @Test
    void strftimeNow() {
        var t = java.time.ZonedDateTime.of(2024, 7, 26, 9, 5, 0, 0, java.time.ZoneOffset.UTC);
        assertEquals("26 Jul 2024, Friday 09:05 AM %", StrftimeNow.format(t, "%d %b %Y, %A %H:%M %p %%"));
        assertEquals(String.valueOf(java.time.LocalDate.now().getYear()), render("{{ strftime_now('%Y') }}"));
        assertFailsNaming("{{ strftime_now('%Z') }}", "%Z");
    }

    @Test
    void stringRepetitionIsNamed() {
        assertFailsNaming("{{ '-' * 3 }}", "'-' * 3");
    }


    @Test
    void notBindsMoreLooselyThanATestAsInJinja() {
        // (Jinjava prints booleans in lower case, where Python prints True and False.)
        assertEquals("false|true|false|true|not a is defined|False",
                render("{{ not messages is defined }}|{{ not nothing is defined }}|{{ not messages[0]['role'] is string }}"
                        + "|{{ not messages[0].x is not none }}|{{ 'not a is defined' }}"
                        + "|{% if not messages is defined %}True{% else %}False{% endif %}"));
    }

    @Test
    void valuesPrintAsPythonWould() {
        assertEquals("[1, 'a']|{'k': 'v'}", render("{{ [1, 'a'] }}|{{ {'k': 'v'} }}"));
    }

    @Test
    void mapKeysAreStrings() {
        assertEquals("1", ChatTemplate.compile("{% set d = {'role': 1} %}{{ d.role }}", "t").render(
                List.<Map<String, String>>of(), "", "", false));
    }
}
