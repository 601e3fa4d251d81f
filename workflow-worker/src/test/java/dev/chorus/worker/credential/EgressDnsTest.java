package dev.chorus.worker.credential;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chorus.model.net.EgressPolicy;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import okhttp3.Dns;
import org.junit.jupiter.api.Test;

class EgressDnsTest {
  private final List<String> looked = new ArrayList<>();

  /** A DNS of fixed answers (IP literals only, so nothing reaches a real resolver). */
  private Dns zone(Map<String, List<String>> answers) {
    return host -> {
      looked.add(host);
      List<String> addresses = answers.get(host);
      if (addresses == null) {
        throw new UnknownHostException(host);
      }
      List<InetAddress> out = new ArrayList<>();
      for (String a : addresses) {
        out.add(InetAddress.getByName(a));
      }
      return out;
    };
  }

  private final Dns zone =
      zone(
          Map.of(
              "api.example.com", List.of("93.184.216.34"),
              "mixed.example.com", List.of("10.0.0.7", "93.184.216.34", "::1"),
              "metadata.example.com", List.of("169.254.169.254"),
              "private.example.com", List.of("10.0.0.5", "192.168.0.5"),
              "lmstudio.lan", List.of("192.168.1.50")));

  private EgressDns dns(String... allow) {
    return new EgressDns(EgressPolicy.of(List.of(allow)), zone);
  }

  @Test
  void publicAddressesPassThrough() throws Exception {
    assertThat(dns().lookup("api.example.com"))
        .containsExactly(InetAddress.getByName("93.184.216.34"));
  }

  @Test
  void disallowedAddressesAreDropped() throws Exception {
    assertThat(dns().lookup("mixed.example.com"))
        .as("only the public address is left to connect to")
        .containsExactly(InetAddress.getByName("93.184.216.34"));
  }

  @Test
  void aNameWithOnlyDisallowedAddressesIsRefused() {
    assertThatThrownBy(() -> dns().lookup("metadata.example.com"))
        .isInstanceOf(EgressRefusedException.class)
        .isInstanceOf(UnknownHostException.class)
        .hasMessage(
            "egress to metadata.example.com refused: it resolves to the cloud metadata address"
                + " 169.254.169.254; ask an operator to allowlist it");
    assertThatThrownBy(() -> dns().lookup("private.example.com"))
        .isInstanceOf(EgressRefusedException.class)
        .hasMessageContaining("a private address 10.0.0.5 (and 1 more, none allowed)");
  }

  @Test
  void unknownNamesStayUnknown() {
    assertThatThrownBy(() -> dns().lookup("nowhere.example.com"))
        .isInstanceOf(UnknownHostException.class)
        .isNotInstanceOf(EgressRefusedException.class);
  }

  @Test
  void nonStandardNumericNamesAreRefusedBeforeAnyLookup() {
    for (String host : List.of("0x7f.0.0.1", "2130706433", "0177.0.0.1", "127.1")) {
      assertThatThrownBy(() -> dns().lookup(host))
          .as(host)
          .isInstanceOf(EgressRefusedException.class)
          .hasMessageContaining("127.0.0.1");
    }
    assertThat(looked).isEmpty();
  }

  @Test
  void allowlistKeepsAnAllowlistedNameOrRange() throws Exception {
    assertThat(dns("lmstudio.lan").lookup("lmstudio.lan"))
        .containsExactly(InetAddress.getByName("192.168.1.50"));
    assertThat(dns("10.0.0.0/8").lookup("private.example.com"))
        .containsExactly(InetAddress.getByName("10.0.0.5"));
    assertThatThrownBy(() -> dns("lmstudio.lan").lookup("private.example.com"))
        .isInstanceOf(EgressRefusedException.class);
  }
}
