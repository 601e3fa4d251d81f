package dev.chorus.worker.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chorus.model.agent.ProviderKind;
import dev.chorus.worker.provider.Cancellation;
import dev.chorus.worker.provider.ChatMessage;
import dev.chorus.worker.provider.ChatMessage.Role;
import dev.chorus.worker.provider.ChatProvider;
import dev.chorus.worker.provider.ChatRequest;
import dev.chorus.worker.provider.Endpoint;
import dev.chorus.worker.provider.ModelInfo;
import dev.chorus.worker.provider.StreamEnd;
import dev.chorus.worker.provider.StreamSink;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ResumeTest {
  private static final List<ChatMessage> HISTORY = List.of(new ChatMessage(Role.USER, "Tell me"));

  private record Provider(boolean supportsPrefill) implements ChatProvider {
    @Override
    public String id() {
      return "p";
    }

    @Override
    public ProviderKind kind() {
      return ProviderKind.OPENAI_COMPATIBLE;
    }

    @Override
    public Optional<Endpoint> serverEndpoint() {
      return Optional.empty();
    }

    @Override
    public String defaultBaseUrl() {
      return "http://p.invalid";
    }

    @Override
    public StreamEnd stream(Endpoint e, ChatRequest r, StreamSink s, Cancellation c) {
      throw new UnsupportedOperationException();
    }

    @Override
    public List<ModelInfo> listModels(Endpoint endpoint) {
      return List.of();
    }
  }

  @Test
  void aProviderThatContinuesAPrefillGetsTheCheckpointWithoutTrailingWhitespace() {
    Resume resume = Resume.plan(new Provider(true), 2, "Once upon a ");

    assertThat(resume.keep()).isEqualTo("Once upon a");
    assertThat(resume.prefill()).isEqualTo("Once upon a");
    assertThat(resume.messages(HISTORY)).isEqualTo(HISTORY);
  }

  @Test
  void otherProvidersGetAContinuationPromptAndKeepTheExactCheckpoint() {
    Resume resume = Resume.plan(new Provider(false), 2, "Once upon a ");

    assertThat(resume.keep()).isEqualTo("Once upon a ");
    assertThat(resume.prefill()).isNull();
    List<ChatMessage> messages = resume.messages(HISTORY);
    assertThat(messages).hasSize(3);
    assertThat(messages.get(1)).isEqualTo(new ChatMessage(Role.ASSISTANT, "Once upon a "));
    assertThat(messages.get(2).role()).isEqualTo(Role.USER);
    assertThat(messages.get(2).content()).isEqualTo(Resume.CONTINUE);
  }

  @Test
  void nothingKeptOrTooManyResumingAttemptsStartOver() {
    for (Resume restart :
        List.of(
            Resume.plan(new Provider(true), 2, ""),
            Resume.plan(new Provider(true), 2, "   "),
            Resume.plan(new Provider(false), Resume.MAX_RESUMING_ATTEMPTS + 2, "text"))) {
      assertThat(restart.keep()).isEmpty();
      assertThat(restart.prefill()).isNull();
      assertThat(restart.messages(HISTORY)).isEqualTo(HISTORY);
      assertThat(restart.reason()).isNotBlank();
    }
    assertThat(Resume.plan(new Provider(false), Resume.MAX_RESUMING_ATTEMPTS + 1, "text").keep())
        .isEqualTo("text");
  }
}
