package dev.chorus.model.workflow;

import io.temporal.common.SearchAttributeKey;
import java.util.List;

/** Custom search attributes, registered on the Temporal server by infra/stack.sh. */
public final class ChorusSearchAttributes {
  public static final SearchAttributeKey<String> USER_ID =
      SearchAttributeKey.forKeyword("ChorusUserId");
  public static final SearchAttributeKey<String> CONVERSATION_ID =
      SearchAttributeKey.forKeyword("ChorusConversationId");
  public static final SearchAttributeKey<List<String>> PROVIDERS =
      SearchAttributeKey.forKeywordList("ChorusProviders");
  public static final SearchAttributeKey<String> STATUS =
      SearchAttributeKey.forKeyword("ChorusStatus");

  private ChorusSearchAttributes() {}
}
