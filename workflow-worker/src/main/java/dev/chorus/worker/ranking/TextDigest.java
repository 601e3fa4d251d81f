package dev.chorus.worker.ranking;

import dev.chorus.model.api.AnswerSummary;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Deterministic text work of the built-in method: the prose of a markdown answer, its summary and
 * key points, its content words, and word-limited truncation that never cuts a word.
 */
public final class TextDigest {
  static final int MAX_KEY_POINT_WORDS = 15;

  /** A sentence that would overflow the summary is cut only if this many words of it fit. */
  private static final int MIN_PARTIAL_WORDS = 10;

  /** Caps text without spaces (Chinese, Japanese...), where a "word" can be a whole sentence. */
  private static final int MAX_CHARS_PER_WORD = 12;

  private static final String ELLIPSIS = "…";

  private static final Pattern FENCE = Pattern.compile("^\\s*(```|~~~)");
  private static final Pattern BULLET = Pattern.compile("^\\s*(?:[-*+•]|\\d{1,3}[.)])\\s+(\\S.*)$");
  private static final Pattern HEADING = Pattern.compile("^\\s{0,3}#{1,6}(\\s.*)?$");
  private static final Pattern RULE = Pattern.compile("^\\s*([-*_])(\\s*\\1){2,}\\s*$");
  private static final Pattern TABLE = Pattern.compile("^\\s*\\|");
  private static final Pattern QUOTE = Pattern.compile("^\\s*>+\\s?");
  private static final Pattern IMAGE = Pattern.compile("!\\[([^\\]]*)]\\([^)]*\\)");
  private static final Pattern LINK = Pattern.compile("\\[([^\\]]+)]\\([^)]*\\)");
  private static final Pattern EMPHASIS = Pattern.compile("\\*\\*|__|[*`]");
  private static final Pattern SENTENCE_END = Pattern.compile("(?<=[.!?…])\\s+|(?<=[。！？])");
  private static final Pattern CLAUSE_END = Pattern.compile("[,;:]\\s|\\s[—–-]\\s");
  private static final Pattern TERMINATED = Pattern.compile(".*[.!?…:;。！？]$");
  private static final Pattern TRAILING_PUNCTUATION = Pattern.compile("[\\s,;:.—–-]+$");
  private static final Pattern WHITESPACE = Pattern.compile("\\s+");
  private static final Pattern NON_WORD = Pattern.compile("[^\\p{L}\\p{N}]+");

  /** Common English words that say nothing about what a text is about. */
  private static final Set<String> STOP_WORDS =
      Set.of(
          WHITESPACE.split(
              """
              a about above after again against all also am an and any are aren as at be
              because been before being below between both but by can could couldn did
              didn do does doesn doing don down during each either else etc few for from
              further had has hasn have haven having he her here hers herself him himself
              his how however i if in into is isn it its itself just let ll may me might
              more most much must my myself no nor not now of off on once one only or
              other our ours ourselves out over own per please re same shall she should
              shouldn so some such than that the their theirs them themselves then there
              these they this those through thus to too under until up us use used using
              ve very was wasn we were weren what when where whether which while who whom
              why will with won would wouldn yes yet you your yours yourself yourselves
              """
                  .strip()));

  private TextDigest() {}

  /** The prose of a markdown text: its sentences (list items included), and its list items. */
  record Prose(List<String> sentences, List<String> bullets) {}

  /** Code blocks, headings, tables and rules are left out; inline markup is removed. */
  static Prose prose(String markdown) {
    List<String> sentences = new ArrayList<>();
    List<String> bullets = new ArrayList<>();
    StringBuilder paragraph = new StringBuilder();
    boolean inCode = false;
    for (String raw : markdown.split("\\R")) {
      if (FENCE.matcher(raw).find()) {
        inCode = !inCode;
        flush(paragraph, sentences);
        continue;
      }
      if (inCode) {
        continue;
      }
      if (raw.isBlank()
          || RULE.matcher(raw).matches()
          || TABLE.matcher(raw).find()
          || HEADING.matcher(raw).matches()) {
        flush(paragraph, sentences);
        continue;
      }
      String line = QUOTE.matcher(raw).replaceFirst("");
      Matcher bullet = BULLET.matcher(line);
      if (bullet.matches()) {
        flush(paragraph, sentences);
        String item = inline(bullet.group(1));
        if (!item.isEmpty()) {
          bullets.add(item);
          sentences.add(TERMINATED.matcher(item).matches() ? item : item + ".");
        }
        continue;
      }
      paragraph.append(' ').append(inline(line));
    }
    flush(paragraph, sentences);
    return new Prose(List.copyOf(sentences), List.copyOf(bullets));
  }

  /**
   * The leading sentences of an answer within {@value AnswerSummary#MAX_SUMMARY_WORDS} words. A
   * sentence that does not fit is cut at a word boundary and marked with "…" when enough of it
   * fits; otherwise the summary ends with the last whole sentence.
   */
  static String summary(String content) {
    List<String> sentences = prose(content).sentences();
    if (sentences.isEmpty()) {
      // Nothing but code (or nothing at all): its first words are the best we have.
      return limitWords(normalize(content), AnswerSummary.MAX_SUMMARY_WORDS);
    }
    List<String> out = new ArrayList<>();
    int used = 0;
    for (String sentence : sentences) {
      int words = wordCount(sentence);
      if (used + words <= AnswerSummary.MAX_SUMMARY_WORDS) {
        out.add(sentence);
        used += words;
        continue;
      }
      int room = AnswerSummary.MAX_SUMMARY_WORDS - used;
      if (out.isEmpty() || room >= MIN_PARTIAL_WORDS) {
        out.add(limitWords(sentence, room));
      }
      break;
    }
    return limitWords(String.join(" ", out), AnswerSummary.MAX_SUMMARY_WORDS);
  }

  /**
   * Up to {@value AnswerSummary#MAX_KEY_POINTS} key points: the answer's list items when it has a
   * list, else the first clause of each of its first sentences; each within {@value
   * #MAX_KEY_POINT_WORDS} words.
   */
  static List<String> keyPoints(String content) {
    Prose prose = prose(content);
    List<String> source =
        prose.bullets().size() >= 2
            ? prose.bullets()
            : prose.sentences().stream().map(TextDigest::firstClause).toList();
    Set<String> points = new LinkedHashSet<>();
    for (String candidate : source) {
      String point =
          limitWords(TRAILING_PUNCTUATION.matcher(candidate).replaceAll(""), MAX_KEY_POINT_WORDS);
      if (!point.isEmpty()) {
        points.add(point);
      }
      if (points.size() == AnswerSummary.MAX_KEY_POINTS) {
        break;
      }
    }
    return List.copyOf(points);
  }

  /** The text up to its first clause break, when that part has three words or more. */
  static String firstClause(String sentence) {
    Matcher m = CLAUSE_END.matcher(sentence);
    if (m.find()) {
      String clause = sentence.substring(0, m.start());
      if (wordCount(clause) >= 3) {
        return clause;
      }
    }
    return sentence;
  }

  /**
   * The content words of a text: lower case, split at anything but letters and digits, without stop
   * words and single ASCII characters, with a plain English plural folded to its singular.
   */
  static Set<String> terms(String text) {
    Set<String> out = new HashSet<>();
    for (String token : NON_WORD.split(text.toLowerCase(Locale.ROOT))) {
      if (token.isEmpty() || STOP_WORDS.contains(token)) {
        continue;
      }
      if (token.length() == 1 && token.charAt(0) < 128) {
        continue;
      }
      out.add(singular(token));
    }
    return out;
  }

  /** How long a text is, in runs of letters and digits (markup and punctuation do not count). */
  static int length(String text) {
    int n = 0;
    for (String token : NON_WORD.split(text)) {
      if (!token.isEmpty()) {
        n++;
      }
    }
    return n;
  }

  static int wordCount(String text) {
    String t = text.strip();
    return t.isEmpty() ? 0 : WHITESPACE.split(t).length;
  }

  /**
   * At most {@code maxWords} whitespace-separated words of {@code text}, whitespace collapsed; when
   * words were dropped the last kept word ends with "…". Never cuts a word, except a run of more
   * than {@value #MAX_CHARS_PER_WORD} characters per allowed word (scripts written without spaces),
   * which is cut at a character boundary.
   */
  public static String limitWords(String text, int maxWords) {
    String normalized = normalize(text);
    if (maxWords <= 0 || normalized.isEmpty()) {
      return "";
    }
    String[] words = WHITESPACE.split(normalized);
    String out = normalized;
    boolean cut = false;
    if (words.length > maxWords) {
      out = String.join(" ", Arrays.copyOf(words, maxWords));
      cut = true;
    }
    int maxChars = maxWords * MAX_CHARS_PER_WORD;
    if (out.length() > maxChars) {
      int end = out.lastIndexOf(' ', maxChars);
      if (end <= 0) {
        end = Character.isHighSurrogate(out.charAt(maxChars - 1)) ? maxChars - 1 : maxChars;
      }
      out = out.substring(0, end);
      cut = true;
    }
    if (!cut) {
      return out;
    }
    String trimmed = TRAILING_PUNCTUATION.matcher(out).replaceAll("");
    return (trimmed.isEmpty() ? out : trimmed) + ELLIPSIS;
  }

  private static void flush(StringBuilder paragraph, List<String> sentences) {
    String text = normalize(paragraph.toString());
    paragraph.setLength(0);
    if (text.isEmpty()) {
      return;
    }
    for (String sentence : SENTENCE_END.split(text)) {
      String s = sentence.strip();
      if (!s.isEmpty()) {
        sentences.add(s);
      }
    }
  }

  private static String inline(String text) {
    String out = IMAGE.matcher(text).replaceAll("$1");
    out = LINK.matcher(out).replaceAll("$1");
    out = EMPHASIS.matcher(out).replaceAll("");
    return normalize(out);
  }

  private static String normalize(String text) {
    return WHITESPACE.matcher(text).replaceAll(" ").strip();
  }

  private static String singular(String token) {
    int n = token.length();
    if (n > 4 && token.endsWith("ies")) {
      return token.substring(0, n - 3) + "y";
    }
    if (n > 3
        && token.endsWith("s")
        && !token.endsWith("ss")
        && !token.endsWith("us")
        && !token.endsWith("is")) {
      return token.substring(0, n - 1);
    }
    return token;
  }
}
