package dev.chorus.worker.provider.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.worker.provider.WireTestSupport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads a transcript the simple way, line by line and without the provider's code, to say what a
 * user must see: the {@code choices[0].delta.content} of every {@code data:} line, in order.
 */
final class OpenAiTranscripts {
  private static final ObjectMapper PLAIN = new ObjectMapper();

  private OpenAiTranscripts() {}

  static byte[] bytes(String name) {
    return WireTestSupport.resource("/transcripts/openai/" + name);
  }

  static String text(String name) {
    return WireTestSupport.utf8(bytes(name));
  }

  /** Every non-empty content delta of the transcript, in order. */
  static List<String> contentDeltas(byte[] transcript) {
    List<String> deltas = new ArrayList<>();
    for (String line : new String(transcript, StandardCharsets.UTF_8).split("\r\n|\r|\n")) {
      if (!line.startsWith("data:")) {
        continue;
      }
      String data = line.substring(5).strip();
      if (data.equals("[DONE]")) {
        continue;
      }
      try {
        for (JsonNode choice : PLAIN.readTree(data).path("choices")) {
          JsonNode content = choice.path("delta").path("content");
          if (choice.path("index").asInt(0) == 0
              && content.isTextual()
              && !content.asText().isEmpty()) {
            deltas.add(content.asText());
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return deltas;
  }

  /** The transcript up to (not including) the first occurrence of {@code marker}. */
  static byte[] before(byte[] transcript, String marker) {
    String s = new String(transcript, StandardCharsets.UTF_8);
    int at = s.indexOf(marker);
    if (at < 0) {
      throw new IllegalArgumentException("no " + marker + " in the transcript");
    }
    return s.substring(0, at).getBytes(StandardCharsets.UTF_8);
  }

  static byte[] prefix(byte[] transcript, int length) {
    return Arrays.copyOf(transcript, length);
  }
}
