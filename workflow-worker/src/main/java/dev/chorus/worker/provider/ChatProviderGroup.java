package dev.chorus.worker.provider;

import java.util.List;

/**
 * A bean contributing several providers of one kind, e.g. the named OpenAI-compatible endpoints.
 */
public interface ChatProviderGroup {
  List<ChatProvider> providers();
}
