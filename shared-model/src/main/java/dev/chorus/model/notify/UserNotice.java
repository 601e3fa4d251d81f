package dev.chorus.model.notify;

/**
 * What travels on a user's channel: the event and the session that caused it ({@code origin}, null
 * when no session did), so a typing notice is not echoed to its sender.
 */
public record UserNotice(String origin, UserEvent event) {}
