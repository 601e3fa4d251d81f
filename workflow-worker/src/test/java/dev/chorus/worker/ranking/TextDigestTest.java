package dev.chorus.worker.ranking;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chorus.model.api.AnswerSummary;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class TextDigestTest {

  private static String words(int from, int to) {
    return IntStream.rangeClosed(from, to).mapToObj(i -> "w" + i).collect(Collectors.joining(" "));
  }

  @Test
  void aShortAnswerIsItsOwnSummary() {
    assertThat(TextDigest.summary("Rayleigh scattering.   Blue light scatters most."))
        .isEqualTo("Rayleigh scattering. Blue light scatters most.");
  }

  @Test
  void summaryKeepsWholeSentencesWithinFiftyWords() {
    String first = words(1, 30) + ".";
    String second = words(31, 45) + ".";
    String third = words(46, 60) + ".";
    String summary = TextDigest.summary(first + " " + second + " " + third);

    // 45 words fit; only 5 of the third sentence would: too few to be worth a cut sentence.
    assertThat(summary).isEqualTo(first + " " + second);
    assertThat(TextDigest.wordCount(summary)).isLessThanOrEqualTo(AnswerSummary.MAX_SUMMARY_WORDS);
  }

  @Test
  void aSentenceThatDoesNotFitIsCutAtAWordWithAnEllipsis() {
    String summary = TextDigest.summary(words(1, 20) + ". " + words(21, 80) + ", and more.");

    assertThat(TextDigest.wordCount(summary)).isEqualTo(AnswerSummary.MAX_SUMMARY_WORDS);
    assertThat(summary).startsWith("w1 w2 ").endsWith(" w49 w50…");

    String oneLongSentence = TextDigest.summary(words(1, 200));
    assertThat(oneLongSentence).isEqualTo(words(1, 50) + "…");
  }

  @Test
  void neverCutsAWordAndDropsTrailingPunctuationBeforeTheEllipsis() {
    String text = "alpha, beta; gamma: delta, epsilon zeta";
    assertThat(TextDigest.limitWords(text, 3)).isEqualTo("alpha, beta; gamma…");
    assertThat(TextDigest.limitWords(text, 1)).isEqualTo("alpha…");
    assertThat(TextDigest.limitWords(text, 6)).isEqualTo(text);
    assertThat(TextDigest.limitWords("  spaced \n  out  ", 5)).isEqualTo("spaced out");
    assertThat(TextDigest.limitWords("anything", 0)).isEmpty();
  }

  @Test
  void textWithoutSpacesIsCappedAtACharacterBoundary() {
    String chinese = "天空之所以是蓝色的是因为瑞利散射".repeat(100);
    String limited = TextDigest.limitWords(chinese, 5);

    assertThat(limited).endsWith("…").hasSizeLessThanOrEqualTo(5 * 12 + 1);
    assertThat(chinese).startsWith(limited.substring(0, limited.length() - 1));
    // 12 chars end in the middle of a surrogate pair: the cut moves before it.
    String emoji = "x" + "🎵".repeat(200);
    String cut = TextDigest.limitWords(emoji, 1);
    assertThat(cut).isEqualTo("x" + "🎵".repeat(5) + "…");
  }

  @Test
  void markdownIsReducedToProse() {
    String answer =
        """
        # Why the sky is blue

        The sky looks **blue** because of [Rayleigh scattering](https://example.com/rayleigh).

        ```python
        print("not prose")
        ```

        | a | b |
        |---|---|
        > Short wavelengths scatter more.
        """;
    assertThat(TextDigest.summary(answer))
        .isEqualTo(
            "The sky looks blue because of Rayleigh scattering. Short wavelengths scatter more.");
  }

  @Test
  void keyPointsAreTheListItemsWhenThereIsAList() {
    String answer =
        """
        Three reasons:

        - Rayleigh scattering favours *short* wavelengths
        - Our eyes are more sensitive to blue than violet
        * The sun emits less violet
        1. Ozone absorbs some orange and red
        2) Dust and water droplets scatter every colour, which whitens the sky near the horizon on \
        hazy days in a way that the other points do not explain at all
        - sixth point
        """;
    assertThat(TextDigest.keyPoints(answer))
        .containsExactly(
            "Rayleigh scattering favours short wavelengths",
            "Our eyes are more sensitive to blue than violet",
            "The sun emits less violet",
            "Ozone absorbs some orange and red",
            "Dust and water droplets scatter every colour, which whitens the sky near the horizon"
                + " on…");
  }

  @Test
  void withoutAListKeyPointsAreTheFirstClausesOfSentences() {
    String answer =
        "Blue light scatters most, because its wavelength is short. "
            + "At sunset, light crosses more air. "
            + "So the sky turns red; the blue is scattered away. "
            + "Clouds are white.";
    assertThat(TextDigest.keyPoints(answer))
        .containsExactly(
            "Blue light scatters most",
            // "At sunset" is too short a clause to stand alone.
            "At sunset, light crosses more air",
            "So the sky turns red",
            "Clouds are white");
    assertThat(TextDigest.keyPoints("")).isEmpty();
    assertThat(TextDigest.summary("")).isEmpty();
  }

  @Test
  void termsAreLowerCaseContentWordsWithPluralsFolded() {
    assertThat(TextDigest.terms("Why is the Sky BLUE? Skies, workflows & the workflow: a café!"))
        .containsExactlyInAnyOrder("sky", "blue", "workflow", "café");
    assertThat(TextDigest.length("Hello, **world** — 3 times!")).isEqualTo(4);
  }
}
