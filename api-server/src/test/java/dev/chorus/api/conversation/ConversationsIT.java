package dev.chorus.api.conversation;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.chorus.api.support.ApiClient;
import dev.chorus.api.support.Stack;
import io.temporal.client.WorkflowClient;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.ActiveProfiles;

/**
 * Conversations, messages and their branches, presets, stats and export against the real PostgreSQL
 * (and Temporal, where a query is started). No worker runs here: answers are written the way the
 * worker writes them (assistant message under the user message, a COMPLETED response).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("test")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConversationsIT {
  private static final Map<String, Object> ALPHA =
      Map.of("provider", "mock", "model", "alpha", "name", "alpha");
  private static final Map<String, Object> BETA =
      Map.of("provider", "mock", "model", "beta", "name", "beta");

  private final List<String> startedWorkflows = new ArrayList<>();

  @LocalServerPort int port;
  @Autowired JdbcClient jdbc;
  @Autowired WorkflowClient workflowClient;

  private ApiClient api;

  @BeforeAll
  static void stackIsUp() {
    Stack.require();
  }

  @BeforeAll
  void mockProviderIsServed() {
    api = new ApiClient(port);
    jdbc.sql(
            """
            INSERT INTO providers (id, kind, server_configured, health, checked_at)
            VALUES ('mock', 'mock', true, 'UP', now())
            ON CONFLICT (id) DO UPDATE SET server_configured = true, health = 'UP'
            """)
        .update();
  }

  @AfterAll
  void terminateWorkflows() {
    for (String id : startedWorkflows) {
      try {
        workflowClient.newUntypedWorkflowStub(id).terminate("test cleanup");
      } catch (RuntimeException alreadyDone) {
        // Finished or never started.
      }
    }
  }

  // --- conversations --------------------------------------------------------------------------

  @Test
  void searchFindsTitlesAndMessageContentsWithASnippetAndOnlyTheCallersOwn() {
    String token = api.register();
    UUID titled = create(token, Map.of("title", "Kubernetes networking notes"));
    UUID withMessage = create(token, Map.of());
    UUID unrelated = create(token, Map.of("title", "Groceries"));
    send(token, withMessage, "How should I tune PostgreSQL autovacuum for big tables?", null);

    JsonNode hits = ok(api.call("GET", "/api/conversations?q=postgresql", token, null));
    assertThat(ids(hits)).containsExactly(withMessage.toString());
    assertThat(hits.at("/items/0/snippet").asText()).contains("**PostgreSQL**", "autovacuum");
    // English stemming: "table" matches "tables"; words may come in any order.
    assertThat(ids(ok(api.call("GET", "/api/conversations?q=table%20tune", token, null))))
        .containsExactly(withMessage.toString());
    JsonNode byTitle = ok(api.call("GET", "/api/conversations?q=kubernetes", token, null));
    assertThat(ids(byTitle)).containsExactly(titled.toString());
    assertThat(byTitle.at("/items/0/snippet").asText()).contains("**Kubernetes**");
    // Part of a word of a title matches too.
    assertThat(ids(ok(api.call("GET", "/api/conversations?q=grocer", token, null))))
        .containsExactly(unrelated.toString());
    assertThat(ids(ok(api.call("GET", "/api/conversations?q=nothing-like-this", token, null))))
        .isEmpty();
    // No snippet without a search.
    assertThat(ok(api.call("GET", "/api/conversations", token, null)).at("/items/0").has("snippet"))
        .isFalse();

    String stranger = api.register();
    assertThat(ids(ok(api.call("GET", "/api/conversations?q=postgresql", stranger, null))))
        .isEmpty();
    var tooLong = api.call("GET", "/api/conversations?q=" + "x".repeat(201), token, null);
    assertThat(tooLong.status()).isEqualTo(400);
    assertThat(tooLong.contentType()).startsWith("application/problem+json");
  }

  @Test
  void listPagesNewestFirstWithoutDuplicatesOrGaps() {
    String token = api.register();
    List<String> created = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      created.addFirst(create(token, Map.of("title", "page " + i)).toString());
    }
    List<String> seen = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      JsonNode page =
          ok(
              api.call(
                  "GET",
                  "/api/conversations?limit=2" + (cursor == null ? "" : "&cursor=" + cursor),
                  token,
                  null));
      seen.addAll(ids(page));
      cursor = page.get("nextCursor").isNull() ? null : page.get("nextCursor").asText();
      pages++;
    } while (cursor != null);
    assertThat(seen).isEqualTo(created);
    assertThat(pages).isEqualTo(3);
    assertThat(api.call("GET", "/api/conversations?limit=0", token, null).status()).isEqualTo(400);
    assertThat(api.call("GET", "/api/conversations?limit=201", token, null).status())
        .isEqualTo(400);
  }

  @Test
  void patchRenamesArchivesAndSetsDefaultsThatNewMessagesUse() {
    String token = api.register();
    UUID id = create(token, Map.of("title", "first"));
    JsonNode patched =
        ok(
            api.call(
                "PATCH",
                "/api/conversations/" + id,
                token,
                Map.of(
                    "title",
                    "renamed",
                    "systemPrompt",
                    "Answer in French.",
                    "temperature",
                    0.3,
                    "agents",
                    List.of(ALPHA))));
    assertThat(patched.get("title").asText()).isEqualTo("renamed");
    assertThat(patched.get("systemPrompt").asText()).isEqualTo("Answer in French.");
    assertThat(patched.get("temperature").asDouble()).isEqualTo(0.3);
    assertThat(patched.at("/agents/0/name").asText()).isEqualTo("alpha");

    JsonNode sent = send(token, id, "Bonjour ?", null);
    assertThat(sent.at("/query/agents/0/name").asText()).isEqualTo("alpha");
    assertThat(sent.at("/query/agents/0/systemPrompt").asText()).isEqualTo("Answer in French.");
    assertThat(sent.at("/query/agents/0/temperature").asDouble()).isEqualTo(0.3);
    // An agent's own settings win over the conversation's.
    JsonNode own =
        send(
            token,
            id,
            "Again",
            List.of(
                Map.of(
                    "provider",
                    "mock",
                    "model",
                    "beta",
                    "systemPrompt",
                    "Be terse.",
                    "temperature",
                    1.5)));
    assertThat(own.at("/query/agents/0/systemPrompt").asText()).isEqualTo("Be terse.");
    assertThat(own.at("/query/agents/0/temperature").asDouble()).isEqualTo(1.5);

    // Null clears; a field left out stays.
    JsonNode cleared =
        ok(
            api.call(
                "PATCH",
                "/api/conversations/" + id,
                token,
                "{\"systemPrompt\":null,\"archived\":true}"));
    assertThat(cleared.has("systemPrompt")).isFalse();
    assertThat(cleared.get("temperature").asDouble()).isEqualTo(0.3);
    assertThat(cleared.get("archived").asBoolean()).isTrue();
    assertThat(ids(ok(api.call("GET", "/api/conversations", token, null))))
        .doesNotContain(id.toString());
    assertThat(ids(ok(api.call("GET", "/api/conversations?archived=true", token, null))))
        .containsExactly(id.toString());

    var bad =
        api.call(
            "PATCH",
            "/api/conversations/" + id,
            token,
            Map.of("title", "x".repeat(201), "temperature", 3, "archived", "yes"));
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.contentType()).startsWith("application/problem+json");
    assertThat(bad.body().get("errors").findValuesAsText("field"))
        .containsExactlyInAnyOrder("title", "temperature", "archived");
    var badAgents =
        api.call(
            "PATCH",
            "/api/conversations/" + id,
            token,
            Map.of(
                "title",
                "never stored",
                "agents",
                List.of(Map.of("provider", "nope", "model", "m"))));
    assertThat(badAgents.status()).isEqualTo(400);
    JsonNode after = ok(api.call("GET", "/api/conversations/" + id, token, null));
    assertThat(after.get("title").asText()).as("nothing half-written").isEqualTo("renamed");
  }

  @Test
  void deletedConversationsDisappearEverywhereAndBatchDeleteSkipsOthersIds() {
    String token = api.register();
    String other = api.register();
    UUID kept = create(token, Map.of("title", "kept"));
    UUID gone = create(token, Map.of("title", "gone"));
    UUID batch1 = create(token, Map.of("title", "batch one"));
    UUID batch2 = create(token, Map.of("title", "batch two"));
    UUID others = create(other, Map.of("title", "not yours"));
    send(token, kept, "keep me", null);
    send(token, gone, "searchable zeppelin", null);

    assertThat(api.call("DELETE", "/api/conversations/" + gone, token, null).status())
        .isEqualTo(204);
    assertThat(api.call("GET", "/api/conversations/" + gone, token, null).status()).isEqualTo(404);
    assertThat(api.call("GET", "/api/conversations/" + gone + "/messages", token, null).status())
        .isEqualTo(404);
    assertThat(api.call("DELETE", "/api/conversations/" + gone, token, null).status())
        .isEqualTo(404);
    assertThat(ids(ok(api.call("GET", "/api/conversations?q=zeppelin", token, null)))).isEmpty();
    assertThat(
            api.call(
                    "POST",
                    "/api/conversations/" + gone + "/messages",
                    token,
                    Map.of("content", "hi"))
                .status())
        .isEqualTo(404);
    assertThat(
            jdbc.sql("SELECT count(*) FROM messages WHERE conversation_id = :id")
                .param("id", gone)
                .query(Long.class)
                .single())
        .as("soft delete keeps the rows")
        .isEqualTo(1);

    JsonNode deleted =
        ok(
            api.call(
                "POST",
                "/api/conversations/batch-delete",
                token,
                Map.of("ids", List.of(batch1, batch2, others, UUID.randomUUID()))));
    assertThat(deleted.get("count").asInt()).isEqualTo(2);
    assertThat(textValues(deleted.get("deleted")))
        .containsExactlyInAnyOrder(batch1.toString(), batch2.toString());
    assertThat(api.call("GET", "/api/conversations/" + others, other, null).status())
        .isEqualTo(200);
    assertThat(
            api.call("POST", "/api/conversations/batch-delete", token, Map.of("ids", List.of()))
                .status())
        .isEqualTo(400);
    assertThat(
            api.call("POST", "/api/conversations/batch-delete", token, "{\"ids\":[\"not-a-uuid\"]}")
                .status())
        .isEqualTo(400);

    UUID empty1 = create(token, Map.of());
    UUID empty2 = create(token, Map.of("title", "empty too"));
    JsonNode emptied = ok(api.call("POST", "/api/conversations/delete-empty", token, null));
    assertThat(textValues(emptied.get("deleted")))
        .containsExactlyInAnyOrder(empty1.toString(), empty2.toString());
    assertThat(ids(ok(api.call("GET", "/api/conversations", token, null))))
        .containsExactly(kept.toString());
  }

  @Test
  void idempotencyKeysReturnTheOriginalResult() {
    String token = api.register();
    var headers = Map.of("Idempotency-Key", "create-" + UUID.randomUUID());
    var first = api.call("POST", "/api/conversations", token, Map.of("title", "once"), headers);
    var again = api.call("POST", "/api/conversations", token, Map.of("title", "once"), headers);
    assertThat(first.status()).isEqualTo(201);
    assertThat(again.body().get("id")).isEqualTo(first.body().get("id"));
    UUID id = UUID.fromString(first.body().get("id").asText());

    var key = Map.of("Idempotency-Key", "send-" + UUID.randomUUID());
    var sent1 = sendWith(token, id, Map.of("content", "only once"), key);
    var sent2 = sendWith(token, id, Map.of("content", "only once"), key);
    assertThat(sent1.status()).isEqualTo(202);
    assertThat(sent2.status()).isEqualTo(202);
    assertThat(sent2.body().at("/message/id")).isEqualTo(sent1.body().at("/message/id"));
    assertThat(sent2.body().at("/query/id")).isEqualTo(sent1.body().at("/query/id"));
    // The repeat answers what the first request got, even after the query moved on.
    jdbc.sql("UPDATE queries SET status = 'COMPLETED', completed_at = now() WHERE id = :id")
        .param("id", UUID.fromString(sent1.body().at("/query/id").asText()))
        .update();
    var sent3 = sendWith(token, id, Map.of("content", "only once"), key);
    assertThat(sent3.status()).isEqualTo(202);
    assertThat(sent3.body()).isEqualTo(sent1.body());
    // The same key for another message is refused, and nothing is written.
    var reused = sendWith(token, id, Map.of("content", "something else"), key);
    assertThat(reused.status()).isEqualTo(422);
    assertThat(reused.body().get("type").asText()).endsWith("idempotency-key-reused");
    assertThat(
            jdbc.sql("SELECT count(*) FROM messages WHERE conversation_id = :id")
                .param("id", id)
                .query(Long.class)
                .single())
        .isEqualTo(1);

    // Edits and regenerations repeat by key the same way.
    UUID messageId = UUID.fromString(sent1.body().at("/message/id").asText());
    var editKey = Map.of("Idempotency-Key", "edit-" + UUID.randomUUID());
    String editPath = "/api/conversations/" + id + "/messages/" + messageId + "/edit";
    var edit1 = api.call("POST", editPath, token, Map.of("content", "v2"), editKey);
    var edit2 = api.call("POST", editPath, token, Map.of("content", "v2"), editKey);
    startedWorkflows.add(edit1.body().at("/query/workflowId").asText());
    assertThat(edit1.status()).isEqualTo(202);
    assertThat(edit2.body()).isEqualTo(edit1.body());
    String regeneratePath = "/api/queries/" + sent1.body().at("/query/id").asText() + "/regenerate";
    var regenKey = Map.of("Idempotency-Key", "regen-" + UUID.randomUUID());
    var regen1 = api.call("POST", regeneratePath, token, null, regenKey);
    var regen2 = api.call("POST", regeneratePath, token, null, regenKey);
    startedWorkflows.add(regen1.body().at("/query/workflowId").asText());
    assertThat(regen1.status()).isEqualTo(202);
    assertThat(regen2.body().at("/query/id")).isEqualTo(regen1.body().at("/query/id"));
    assertThat(
            jdbc.sql("SELECT count(*) FROM queries WHERE conversation_id = :id")
                .param("id", id)
                .query(Long.class)
                .single())
        .isEqualTo(3);
  }

  // --- branches --------------------------------------------------------------------------------

  @Test
  void editAndRegenerateMakeBranchesThatCanBeListedAndSelected() {
    String token = api.register();
    UUID c = create(token, Map.of("title", "branches", "agents", List.of(ALPHA, BETA)));
    JsonNode q1 = send(token, c, "What is Temporal?", null);
    UUID m1 = uuid(q1, "/message/id");
    UUID query1 = uuid(q1, "/query/id");
    UUID a1 = answer(c, query1, m1, "alpha", "A workflow engine.");
    UUID b1 = answer(c, query1, m1, "beta", "Durable execution.");
    JsonNode q2 = send(token, c, "And Redis?", null);
    UUID m2 = uuid(q2, "/message/id");
    assertThat(q2.at("/message/parentId").asText()).isEqualTo(m1.toString());
    UUID a2 = answer(c, uuid(q2, "/query/id"), m2, "alpha", "An in-memory store.");

    // Editing the second question: a sibling of it, answered by the same agents.
    var edited =
        api.call(
            "POST",
            "/api/conversations/" + c + "/messages/" + m2 + "/edit",
            token,
            Map.of("content", "And PostgreSQL?"));
    assertThat(edited.status()).isEqualTo(202);
    startedWorkflows.add(edited.body().at("/query/workflowId").asText());
    UUID m2b = uuid(edited.body(), "/message/id");
    assertThat(edited.body().at("/message/parentId").asText()).isEqualTo(m1.toString());
    assertThat(edited.body().at("/query/agents").findValuesAsText("name"))
        .containsExactly("alpha", "beta");

    assertThat(activeIds(token, c)).containsExactly(m1, a1, b1, m2b);
    JsonNode active = ok(api.call("GET", "/api/conversations/" + c + "/messages", token, null));
    JsonNode edit = active.get("items").get(3);
    assertThat(textValues(edit.get("siblings"))).containsExactly(m2.toString(), m2b.toString());
    assertThat(edit.get("siblingIndex").asInt()).isEqualTo(1);
    assertThat(active.at("/items/0/siblingIndex").asInt()).isZero();
    JsonNode all =
        ok(api.call("GET", "/api/conversations/" + c + "/messages?branch=all", token, null));
    assertThat(all.get("items")).hasSize(6);
    JsonNode siblings =
        ok(
            api.call(
                "GET", "/api/conversations/" + c + "/messages/" + m2b + "/siblings", token, null));
    assertThat(siblings.get("items").findValuesAsText("content"))
        .containsExactly("And Redis?", "And PostgreSQL?");

    // Back to the first version of the question, and its answer.
    JsonNode selected =
        ok(
            api.call(
                "POST", "/api/conversations/" + c + "/messages/" + m2 + "/select", token, null));
    assertThat(selected.get("currentMessageId").asText()).isEqualTo(m2.toString());
    assertThat(activeIds(token, c)).containsExactly(m1, a1, b1, m2, a2);

    // Regenerating while the query runs is refused; once finished, a new query for the message.
    UUID query2b = uuid(edited.body(), "/query/id");
    assertThat(api.call("POST", "/api/queries/" + query2b + "/regenerate", token, null).status())
        .isEqualTo(409);
    var regenerated =
        api.call(
            "POST", "/api/conversations/" + c + "/messages/" + a1 + "/regenerate", token, null);
    assertThat(regenerated.status()).isEqualTo(202);
    startedWorkflows.add(regenerated.body().at("/query/workflowId").asText());
    assertThat(uuid(regenerated.body(), "/message/id")).isEqualTo(m1);
    assertThat(regenerated.body().at("/query/messageId").asText()).isEqualTo(m1.toString());
    assertThat(regenerated.body().at("/query/agents").findValuesAsText("name"))
        .as("regenerating an answer asks its agent only")
        .containsExactly("alpha");
    UUID a1b = answer(c, uuid(regenerated.body(), "/query/id"), m1, "alpha", "Regenerated.");
    // The new answer replaces alpha's under the first question (beta's stays); later turns remain.
    assertThat(activeIds(token, c)).containsExactly(m1, a1b, b1, m2, a2);
    JsonNode regen =
        ok(api.call("GET", "/api/conversations/" + c + "/messages/" + a1b, token, null));
    assertThat(textValues(regen.get("siblings"))).containsExactly(a1.toString(), a1b.toString());
    assertThat(regen.get("parentId").asText()).isEqualTo(m1.toString());

    // Selecting the old answer makes it the active one again.
    ok(api.call("POST", "/api/conversations/" + c + "/messages/" + a1 + "/select", token, null));
    assertThat(activeIds(token, c)).containsExactly(m1, a1, b1, m2, a2);

    // The active branch pages like any list, in the same order.
    List<UUID> paged = new ArrayList<>();
    String cursor = null;
    do {
      JsonNode page =
          ok(
              api.call(
                  "GET",
                  "/api/conversations/"
                      + c
                      + "/messages?limit=2"
                      + (cursor == null ? "" : "&cursor=" + cursor),
                  token,
                  null));
      page.get("items").forEach(m -> paged.add(UUID.fromString(m.get("id").asText())));
      cursor = page.get("nextCursor").isNull() ? null : page.get("nextCursor").asText();
    } while (cursor != null);
    assertThat(paged).containsExactly(m1, a1, b1, m2, a2);

    // An assistant message cannot be edited; bad input changes nothing.
    var notUser =
        api.call(
            "POST",
            "/api/conversations/" + c + "/messages/" + a1 + "/edit",
            token,
            Map.of("content", "x"));
    assertThat(notUser.status()).isEqualTo(400);
    assertThat(
            api.call(
                    "POST",
                    "/api/conversations/" + c + "/messages/" + m1 + "/edit",
                    token,
                    Map.of("content", ""))
                .status())
        .isEqualTo(400);
    assertThat(
            api.call("GET", "/api/conversations/" + c + "/messages?branch=some", token, null)
                .status())
        .isEqualTo(400);
    assertThat(
            ok(api.call("GET", "/api/conversations/" + c + "/messages?branch=all", token, null))
                .get("items"))
        .as("nothing was written by the refused requests")
        .hasSize(7);
  }

  // --- presets ---------------------------------------------------------------------------------

  @Test
  void presetsArePrivateOrPublicAndOnlyTheirOwnerChangesThem() {
    String owner = api.register();
    String other = api.register();
    JsonNode mine =
        created(
            api.call(
                "POST",
                "/api/presets",
                owner,
                Map.of(
                    "name",
                    "Private duo",
                    "agents",
                    List.of(ALPHA, BETA),
                    "systemPrompt",
                    "Be brief.")));
    assertThat(mine.get("visibility").asText()).isEqualTo("private");
    assertThat(mine.get("owned").asBoolean()).isTrue();
    JsonNode shared =
        created(
            api.call(
                "POST",
                "/api/presets",
                owner,
                Map.of(
                    "name",
                    "Shared reviewer",
                    "agents",
                    List.of(ALPHA),
                    "systemPrompt",
                    "Review code.",
                    "temperature",
                    0.2,
                    "visibility",
                    "public")));
    String mineId = mine.get("id").asText();
    String sharedId = shared.get("id").asText();

    assertThat(ids(ok(api.call("GET", "/api/presets?scope=mine", owner, null))))
        .containsExactly(sharedId, mineId);
    List<String> othersView = ids(ok(api.call("GET", "/api/presets?limit=200", other, null)));
    assertThat(othersView).contains(sharedId).doesNotContain(mineId);
    assertThat(ids(ok(api.call("GET", "/api/presets?scope=mine", other, null)))).isEmpty();
    assertThat(api.call("GET", "/api/presets/" + mineId, other, null).status()).isEqualTo(404);
    JsonNode seen = ok(api.call("GET", "/api/presets/" + sharedId, other, null));
    assertThat(seen.get("owned").asBoolean()).isFalse();
    var body = Map.of("name", "Hijacked", "agents", List.of(BETA), "visibility", "public");
    assertThat(api.call("PUT", "/api/presets/" + sharedId, other, body).status()).isEqualTo(403);
    assertThat(api.call("DELETE", "/api/presets/" + sharedId, other, null).status()).isEqualTo(403);
    assertThat(api.call("PUT", "/api/presets/" + mineId, other, body).status()).isEqualTo(404);
    assertThat(api.call("DELETE", "/api/presets/" + mineId, other, null).status()).isEqualTo(404);
    assertThat(ok(api.call("GET", "/api/presets/" + sharedId, owner, null)).get("name").asText())
        .isEqualTo("Shared reviewer");

    // Anyone may start a conversation from a public preset; a private one is its owner's only.
    JsonNode fromShared =
        created(api.call("POST", "/api/conversations", other, Map.of("presetId", sharedId)));
    assertThat(fromShared.get("presetId").asText()).isEqualTo(sharedId);
    assertThat(fromShared.at("/agents/0/name").asText()).isEqualTo("alpha");
    assertThat(fromShared.get("systemPrompt").asText()).isEqualTo("Review code.");
    assertThat(fromShared.get("temperature").asDouble()).isEqualTo(0.2);
    assertThat(api.call("POST", "/api/conversations", other, Map.of("presetId", mineId)).status())
        .isEqualTo(404);
    JsonNode overridden =
        created(
            api.call(
                "POST",
                "/api/conversations",
                owner,
                Map.of("presetId", mineId, "title", "t", "systemPrompt", "Be long.")));
    assertThat(overridden.get("systemPrompt").asText()).isEqualTo("Be long.");
    assertThat(overridden.get("agents")).hasSize(2);

    JsonNode updated =
        ok(
            api.call(
                "PUT",
                "/api/presets/" + mineId,
                owner,
                Map.of("name", "Now public", "agents", List.of(BETA), "visibility", "public")));
    assertThat(updated.get("visibility").asText()).isEqualTo("public");
    assertThat(ok(api.call("GET", "/api/presets/" + mineId, other, null)).get("name").asText())
        .isEqualTo("Now public");
    assertThat(api.call("DELETE", "/api/presets/" + mineId, owner, null).status()).isEqualTo(204);
    assertThat(api.call("GET", "/api/presets/" + mineId, owner, null).status()).isEqualTo(404);

    var invalid =
        api.call(
            "POST",
            "/api/presets",
            owner,
            Map.of("name", "", "agents", List.of(), "visibility", "friends"));
    assertThat(invalid.status()).isEqualTo(400);
    assertThat(invalid.body().get("errors").findValuesAsText("field"))
        .containsExactlyInAnyOrder("name", "agents", "visibility");
    assertThat(api.call("GET", "/api/presets?scope=everyone", owner, null).status()).isEqualTo(400);
  }

  // --- stats and export ------------------------------------------------------------------------

  @Test
  void statsSumConversationsMessagesTokensAndCostPerProviderAndDay() {
    String token = api.register();
    UUID userId = userId(token);
    UUID c = create(token, Map.of("title", "stats"));
    Instant day1 = LocalDate.of(2026, 3, 10).atTime(10, 0).toInstant(ZoneOffset.UTC);
    Instant day3 = LocalDate.of(2026, 3, 12).atTime(23, 30).toInstant(ZoneOffset.UTC);
    UUID q1 = storedQuery(userId, c, day1);
    storedResponse(q1, "a", "openai", 100, 20, "0.0015");
    storedResponse(q1, "b", "anthropic", 50, 10, "0.0020");
    UUID q2 = storedQuery(userId, c, day3);
    storedResponse(q2, "a", "openai", 200, 40, "0.0030");
    // Another user's usage never counts.
    String stranger = api.register();
    UUID sc = create(stranger, Map.of());
    storedResponse(storedQuery(userId(stranger), sc, day1), "a", "openai", 999, 999, "9");

    JsonNode stats =
        ok(api.call("GET", "/api/me/stats?from=2026-03-10&to=2026-03-12", token, null));
    assertThat(stats.get("queries").asLong()).isEqualTo(2);
    assertThat(stats.get("messages").asLong()).isEqualTo(2);
    assertThat(stats.get("userMessages").asLong()).isEqualTo(2);
    assertThat(stats.get("inputTokens").asLong()).isEqualTo(350);
    assertThat(stats.get("outputTokens").asLong()).isEqualTo(70);
    assertThat(stats.get("costUsd").decimalValue()).isEqualByComparingTo(new BigDecimal("0.0065"));
    JsonNode byProvider = stats.get("byProvider");
    assertThat(byProvider.findValuesAsText("provider")).containsExactly("anthropic", "openai");
    assertThat(byProvider.get(1).get("responses").asLong()).isEqualTo(2);
    assertThat(byProvider.get(1).get("inputTokens").asLong()).isEqualTo(300);
    assertThat(byProvider.get(1).get("costUsd").decimalValue())
        .isEqualByComparingTo(new BigDecimal("0.0045"));
    JsonNode byDay = stats.get("byDay");
    assertThat(byDay.findValuesAsText("day"))
        .containsExactly("2026-03-10", "2026-03-11", "2026-03-12");
    assertThat(byDay.get(0).get("outputTokens").asLong()).isEqualTo(30);
    assertThat(byDay.get(1).get("queries").asLong()).isZero();
    assertThat(byDay.get(2).get("inputTokens").asLong()).isEqualTo(200);
    assertThat(byDay.get(2).get("messages").asLong()).isEqualTo(1);

    // The conversation itself was created today: it counts in a range that holds today.
    JsonNode recent = ok(api.call("GET", "/api/me/stats", token, null));
    assertThat(recent.get("conversations").asLong()).isEqualTo(1);
    assertThat(recent.get("byDay").size()).isBetween(30, 31);

    assertThat(api.call("GET", "/api/me/stats?from=2026-03-12&to=2026-03-01", token, null).status())
        .isEqualTo(400);
    assertThat(api.call("GET", "/api/me/stats?from=yesterday", token, null).status())
        .isEqualTo(400);
    assertThat(api.call("GET", "/api/me/stats?from=2020-01-01&to=2026-01-01", token, null).status())
        .isEqualTo(400);
  }

  @Test
  void exportGivesEveryBranchAsJsonAndTheActiveBranchAsMarkdown() {
    String token = api.register();
    UUID c = create(token, Map.of("title", "Export me", "agents", List.of(ALPHA)));
    JsonNode q1 = send(token, c, "Why is the sky blue?", null);
    UUID m1 = uuid(q1, "/message/id");
    UUID query1 = uuid(q1, "/query/id");
    answer(c, query1, m1, "alpha", "Rayleigh scattering.");
    jdbc.sql(
            """
            INSERT INTO query_rankings (query_id, agent, rank, score, metrics, method)
            VALUES (:q, 'alpha', 1, 0.9, '{}'::jsonb, 'builtin')
            """)
        .param("q", query1)
        .update();
    var edited =
        api.call(
            "POST",
            "/api/conversations/" + c + "/messages/" + m1 + "/edit",
            token,
            Map.of("content", "Why are sunsets red?"));
    startedWorkflows.add(edited.body().at("/query/workflowId").asText());

    var json = api.call("GET", "/api/conversations/" + c + "/export?format=json", token, null);
    assertThat(json.status()).isEqualTo(200);
    assertThat(json.body().at("/conversation/title").asText()).isEqualTo("Export me");
    assertThat(json.body().get("messages").findValuesAsText("content"))
        .containsExactly("Why is the sky blue?", "Rayleigh scattering.", "Why are sunsets red?");
    assertThat(json.body().get("activeBranch")).hasSize(1);
    assertThat(json.body().get("queries")).hasSize(2);
    assertThat(json.body().at("/queries/0/ranking/0/agent").asText()).isEqualTo("alpha");

    // The Markdown shows the active branch: select the first version again.
    ok(api.call("POST", "/api/conversations/" + c + "/messages/" + m1 + "/select", token, null));
    String md = markdown(token, c);
    assertThat(md)
        .startsWith("# Export me\n")
        .contains("## You\n\nWhy is the sky blue?\n")
        .contains("### alpha (mock/alpha, completed) — rank 1, score 0.90\n\nRayleigh scattering.")
        .contains("other versions")
        .doesNotContain("sunsets");
    assertThat(
            api.call("GET", "/api/conversations/" + c + "/export?format=pdf", token, null).status())
        .isEqualTo(400);
  }

  @Test
  void textPostgresqlCannotStoreIsAFieldErrorNotAServerError() {
    String token = api.register();
    UUID c = create(token, Map.of("title", "clean"));
    String nul = "bad\u0000text";
    List<ApiClient.Response> responses =
        List.of(
            api.call("POST", "/api/conversations", token, Map.of("title", nul)),
            api.call("PATCH", "/api/conversations/" + c, token, Map.of("title", nul)),
            api.call("GET", "/api/conversations?q=a%00b", token, null),
            api.call(
                "POST", "/api/conversations/" + c + "/messages", token, Map.of("content", nul)),
            api.call("POST", "/api/presets", token, Map.of("name", nul, "agents", List.of(ALPHA))),
            api.call("GET", "/api/me/stats?to=%2B10000-01-01T00:00:00Z", token, null));
    for (var response : responses) {
      assertThat(response.status()).as(response.toString()).isEqualTo(400);
      assertThat(response.contentType()).startsWith("application/problem+json");
    }
    assertThat(ok(api.call("GET", "/api/conversations/" + c, token, null)).get("title").asText())
        .isEqualTo("clean");
    assertThat(
            jdbc.sql("SELECT count(*) FROM messages WHERE conversation_id = :id")
                .param("id", c)
                .query(Long.class)
                .single())
        .isZero();
  }

  // --- ownership -------------------------------------------------------------------------------

  @Test
  void anotherUsersIdsAreNotFoundOnEveryRoute() {
    String owner = api.register();
    String other = api.register();
    UUID c = create(owner, Map.of("title", "mine"));
    JsonNode sent = send(owner, c, "secret question", null);
    UUID m = uuid(sent, "/message/id");
    UUID q = uuid(sent, "/query/id");
    jdbc.sql("UPDATE queries SET status = 'COMPLETED' WHERE id = :id").param("id", q).update();
    String base = "/api/conversations/" + c;
    Map<String, Object> content = Map.of("content", "x");
    List<Object[]> routes =
        List.of(
            new Object[] {"GET", base, null},
            new Object[] {"PATCH", base, Map.of("title", "stolen")},
            new Object[] {"DELETE", base, null},
            new Object[] {"GET", base + "/messages", null},
            new Object[] {"POST", base + "/messages", content},
            new Object[] {"GET", base + "/messages/" + m, null},
            new Object[] {"GET", base + "/messages/" + m + "/siblings", null},
            new Object[] {"POST", base + "/messages/" + m + "/edit", content},
            new Object[] {"PATCH", base + "/messages/" + m, content},
            new Object[] {"POST", base + "/messages/" + m + "/regenerate", null},
            new Object[] {"POST", base + "/messages/" + m + "/select", null},
            new Object[] {"GET", base + "/export?format=md", null},
            new Object[] {"POST", "/api/queries/" + q + "/regenerate", null});
    for (Object[] r : routes) {
      var response = api.call((String) r[0], (String) r[1], other, r[2]);
      assertThat(response.status()).as(r[0] + " " + r[1]).isEqualTo(404);
      assertThat(response.contentType())
          .as(r[0] + " " + r[1])
          .startsWith("application/problem+json");
    }
    // A message id of the owner's under the stranger's own conversation is not found either.
    UUID strangers = create(other, Map.of());
    assertThat(
            api.call("GET", "/api/conversations/" + strangers + "/messages/" + m, other, null)
                .status())
        .isEqualTo(404);
    JsonNode batch =
        ok(api.call("POST", "/api/conversations/batch-delete", other, Map.of("ids", List.of(c))));
    assertThat(batch.get("count").asInt()).isZero();
    assertThat(ok(api.call("GET", base, owner, null)).get("title").asText()).isEqualTo("mine");
    assertThat(
            jdbc.sql("SELECT count(*) FROM messages WHERE conversation_id = :id")
                .param("id", c)
                .query(Long.class)
                .single())
        .isEqualTo(1);
  }

  // --- helpers ---------------------------------------------------------------------------------

  private UUID create(String token, Map<String, Object> body) {
    return UUID.fromString(
        created(api.call("POST", "/api/conversations", token, body)).get("id").asText());
  }

  private JsonNode send(String token, UUID conversationId, String content, List<?> agents) {
    Map<String, Object> body = new HashMap<>();
    body.put("content", content);
    if (agents != null) {
      body.put("agents", agents);
    }
    var response = sendWith(token, conversationId, body, Map.of());
    assertThat(response.status()).as(response.toString()).isEqualTo(202);
    return response.body();
  }

  private ApiClient.Response sendWith(
      String token, UUID conversationId, Object body, Map<String, String> headers) {
    var response =
        api.call(
            "POST", "/api/conversations/" + conversationId + "/messages", token, body, headers);
    if (response.status() == 202) {
      startedWorkflows.add(response.body().at("/query/workflowId").asText());
    }
    return response;
  }

  /**
   * The answer of {@code agent} as the worker persists it, and the query marked COMPLETED; returns
   * the assistant message's id.
   */
  private UUID answer(
      UUID conversationId, UUID queryId, UUID userMessageId, String agent, String text) {
    UUID id = UUID.randomUUID();
    jdbc.sql(
            """
            INSERT INTO messages (id, conversation_id, role, content, query_id, agent, parent_id)
            VALUES (:id, :conversation, 'assistant', :content, :query, :agent, :parent)
            """)
        .param("id", id)
        .param("conversation", conversationId)
        .param("content", text)
        .param("query", queryId)
        .param("agent", agent)
        .param("parent", userMessageId)
        .update();
    jdbc.sql(
            """
            INSERT INTO responses (query_id, agent, provider, model, status, content, message_id,
                                   input_tokens, output_tokens, completed_at)
            VALUES (:query, :agent, 'mock', :agent, 'COMPLETED', :content, :id, 10, 5, now())
            ON CONFLICT (query_id, agent) DO NOTHING
            """)
        .param("query", queryId)
        .param("agent", agent)
        .param("content", text)
        .param("id", id)
        .update();
    jdbc.sql("UPDATE queries SET status = 'COMPLETED', completed_at = now() WHERE id = :id")
        .param("id", queryId)
        .update();
    return id;
  }

  /** A query (with its user message) asked at {@code at}, as rows. */
  private UUID storedQuery(UUID userId, UUID conversationId, Instant at) {
    UUID messageId = UUID.randomUUID();
    UUID queryId = UUID.randomUUID();
    jdbc.sql(
            """
            INSERT INTO messages (id, conversation_id, role, content, created_at)
            VALUES (:id, :conversation, 'user', 'q', :at)
            """)
        .param("id", messageId)
        .param("conversation", conversationId)
        .param("at", Timestamp.from(at))
        .update();
    jdbc.sql(
            """
            INSERT INTO queries (id, conversation_id, user_id, message_id, status, agents,
                                 workflow_id, created_at)
            VALUES (:id, :conversation, :user, :message, 'COMPLETED', '[]'::jsonb, :workflow, :at)
            """)
        .param("id", queryId)
        .param("conversation", conversationId)
        .param("user", userId)
        .param("message", messageId)
        .param("workflow", "query-" + queryId)
        .param("at", Timestamp.from(at))
        .update();
    return queryId;
  }

  private void storedResponse(
      UUID queryId, String agent, String provider, long input, long output, String cost) {
    jdbc.sql(
            """
            INSERT INTO responses (query_id, agent, provider, model, status, input_tokens,
                                   output_tokens, cost_usd)
            VALUES (:query, :agent, :provider, 'm', 'COMPLETED', :input, :output, :cost)
            """)
        .param("query", queryId)
        .param("agent", agent)
        .param("provider", provider)
        .param("input", input)
        .param("output", output)
        .param("cost", new BigDecimal(cost))
        .update();
  }

  private List<UUID> activeIds(String token, UUID conversationId) {
    List<UUID> out = new ArrayList<>();
    ok(api.call("GET", "/api/conversations/" + conversationId + "/messages", token, null))
        .get("items")
        .forEach(m -> out.add(UUID.fromString(m.get("id").asText())));
    return out;
  }

  /** The Markdown export, checked to come as a text/markdown attachment. */
  private String markdown(String token, UUID conversationId) {
    var request =
        HttpRequest.newBuilder(
                URI.create(
                    api.base() + "/api/conversations/" + conversationId + "/export?format=md"))
            .header("Authorization", "Bearer " + token)
            .build();
    try {
      var response = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.headers().firstValue("Content-Type").orElse(""))
          .startsWith("text/markdown");
      assertThat(response.headers().firstValue("Content-Disposition").orElse(""))
          .contains("attachment", "conversation-" + conversationId + ".md");
      return response.body();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private UUID userId(String token) {
    return UUID.fromString(api.call("GET", "/api/me", token, null).body().get("id").asText());
  }

  private static JsonNode ok(ApiClient.Response response) {
    assertThat(response.status()).as(response.toString()).isEqualTo(200);
    return response.body();
  }

  private static JsonNode created(ApiClient.Response response) {
    assertThat(response.status()).as(response.toString()).isEqualTo(201);
    return response.body();
  }

  private static UUID uuid(JsonNode node, String pointer) {
    return UUID.fromString(node.at(pointer).asText());
  }

  private static List<String> ids(JsonNode page) {
    List<String> out = new ArrayList<>();
    page.get("items").forEach(i -> out.add(i.get("id").asText()));
    return out;
  }

  private static List<String> textValues(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(v -> out.add(v.asText()));
    return out;
  }
}
