package dev.chorus.model.notify;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.chorus.model.api.ConversationView;
import dev.chorus.model.api.QueryStatus;
import java.util.UUID;

/**
 * A notice for every live session of one user, published on the user's Redis pub/sub channel by
 * whichever process made the change and relayed by every api-server to that user's WebSocket
 * sessions. Never persisted: a client that was away reloads the list over REST.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
  @JsonSubTypes.Type(value = UserEvent.ConversationCreated.class, name = "conversation_created"),
  @JsonSubTypes.Type(value = UserEvent.ConversationUpdated.class, name = "conversation_updated"),
  @JsonSubTypes.Type(value = UserEvent.ConversationDeleted.class, name = "conversation_deleted"),
  @JsonSubTypes.Type(value = UserEvent.QueryStatusChanged.class, name = "query_status"),
  @JsonSubTypes.Type(value = UserEvent.Typing.class, name = "typing"),
})
public sealed interface UserEvent {
  UUID conversationId();

  record ConversationCreated(ConversationView conversation) implements UserEvent {
    @Override
    @JsonProperty
    public UUID conversationId() {
      return conversation.id();
    }
  }

  /** Title, agents or archived changed; carries the whole conversation as it is now. */
  record ConversationUpdated(ConversationView conversation) implements UserEvent {
    @Override
    @JsonProperty
    public UUID conversationId() {
      return conversation.id();
    }
  }

  record ConversationDeleted(UUID conversationId) implements UserEvent {}

  record QueryStatusChanged(UUID queryId, UUID conversationId, QueryStatus status)
      implements UserEvent {}

  /** The user is typing in a conversation in another session. */
  record Typing(UUID conversationId) implements UserEvent {}
}
