package io.flashlm.chat;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The tool-describing branches of the Qwen 2.5 and Mistral v0.3 templates: tojson with Python's spacing, and
 * Mistral's loop filter ({@code for key, val in tool.items() if key != "return"}).
 */
class ToolTemplatesTest {

    /** Insertion-ordered, as Python's dicts (and JSON read into them) are. */
    private static Map<String, Object> ordered(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    private static final Map<String, Object> WEATHER = ordered("type", "function", "function", ordered(
            "name", "get_weather", "description", "Get the weather", "parameters", ordered("type", "object",
                    "properties", ordered("city", ordered("type", "string")), "required", List.of("city")),
            "return", ordered("type", "string")));
    private static final String WEATHER_JSON = "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\","
            + " \"description\": \"Get the weather\", \"parameters\": {\"type\": \"object\", \"properties\":"
            + " {\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}, \"return\": {\"type\": \"string\"}}}";

    private static final List<Map<String, String>> ASK = List.of(Templates.message("user", "Weather in Paris?"));

    @Test
    void qwen25DescribesToolsInItsSystemMessage() {
        String expected = "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant."
                + "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
                + "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
                + WEATHER_JSON + "\n</tools>\n\n"
                + "For each function call, return a json object with function name and arguments within"
                + " <tool_call></tool_call> XML tags:\n<tool_call>\n"
                + "{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n"
                + "<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant\n";
        assertEquals(expected, Templates.compile("qwen2.5").render(ASK, null, "<|im_end|>", true,
                Map.of("tools", List.of(WEATHER))));
    }

    @Test
    void mistralV03ListsToolsBeforeTheLastUserTurnWithoutTheirReturnKey() {
        String function = "{\"name\": \"get_weather\", \"description\": \"Get the weather\", \"parameters\":"
                + " {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, \"required\":"
                + " [\"city\"]}}";
        String expected = "<s>[AVAILABLE_TOOLS] [{\"type\": \"function\", \"function\": " + function + "}]"
                + "[/AVAILABLE_TOOLS][INST] Weather in Paris?[/INST]";
        assertEquals(expected, Templates.compile("mistral-v0.3").render(ASK, "<s>", "</s>", true,
                Map.of("tools", List.of(WEATHER))));
    }
}
