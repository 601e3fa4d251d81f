package dev.chorus.model.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chorus.model.net.EgressPolicy.Allowed;
import dev.chorus.model.net.EgressPolicy.Rejected;
import dev.chorus.model.net.EgressPolicy.Verdict;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EgressPolicyTest {
  /** A DNS of fixed answers; any other name does not resolve. */
  private static EgressPolicy.Resolver dns(Map<String, List<String>> answers) {
    return host -> {
      List<String> addresses = answers.get(host);
      if (addresses == null) {
        throw new UnknownHostException(host);
      }
      InetAddress[] out = new InetAddress[addresses.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = InetAddress.getByName(addresses.get(i)); // literals only: no real DNS
      }
      return out;
    };
  }

  /** For inputs that must be decided without any lookup. */
  private static final EgressPolicy.Resolver NO_DNS =
      host -> {
        throw new AssertionError("must not resolve " + host);
      };

  private static final Map<String, List<String>> ZONE =
      Map.of(
          "api.example.com", List.of("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"),
          "internal.example.com", List.of("10.0.0.5"),
          "metadata.example.com", List.of("169.254.169.254"),
          "mixed.example.com", List.of("93.184.216.34", "192.168.1.20"),
          "rebind-v6.example.com", List.of("2606:2800:220:1::1", "fd00:ec2::254"),
          "localhost", List.of("127.0.0.1", "::1"),
          "lmstudio.lan", List.of("192.168.1.50"));

  private final EgressPolicy policy = new EgressPolicy(List.of(), dns(ZONE));

  private static String rejected(Verdict verdict) {
    assertThat(verdict).isInstanceOf(Rejected.class);
    return ((Rejected) verdict).reason();
  }

  @Test
  void publicHostIsAllowedWithAllItsAddresses() {
    Verdict verdict = policy.check("https://api.example.com/v1");
    assertThat(verdict).isInstanceOf(Allowed.class);
    assertThat(verdict.allowed()).isTrue();
    assertThat(((Allowed) verdict).addresses()).hasSize(2);
    assertThat(policy.check("http://API.Example.com.:8443/v1?api-version=1").allowed()).isTrue();
  }

  @Test
  void hostResolvingToPrivateAddressIsRejectedWithAHumanMessage() {
    assertThat(rejected(policy.check("https://internal.example.com/v1")))
        .isEqualTo(
            "base URL host 'internal.example.com' resolves to a private address 10.0.0.5;"
                + " ask an operator to allowlist it");
  }

  @Test
  void hostResolvingToMetadataIsRejected() {
    assertThat(rejected(policy.check("http://metadata.example.com/latest/meta-data/")))
        .contains("the cloud metadata address 169.254.169.254");
  }

  @Test
  void oneBadAddressAmongGoodOnesIsEnoughToReject() {
    assertThat(rejected(policy.check("https://mixed.example.com/")))
        .contains("a private address 192.168.1.20");
    assertThat(rejected(policy.check("https://rebind-v6.example.com/")))
        .contains("a unique-local address fd00:ec2:0:0:0:0:0:254");
    assertThat(rejected(policy.check("http://localhost:1234/"))).contains("loopback");
  }

  @Test
  void unresolvableHostIsRejected() {
    assertThat(rejected(policy.check("https://nowhere.example.com/")))
        .isEqualTo("base URL host 'nowhere.example.com' does not resolve");
    var empty = new EgressPolicy(List.of(), host -> new InetAddress[0]);
    assertThat(empty.check("https://api.example.com/").allowed()).isFalse();
    var broken =
        new EgressPolicy(
            List.of(),
            host -> {
              throw new IllegalStateException("resolver broke");
            });
    assertThat(broken.check("https://api.example.com/").allowed()).isFalse();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "http://127.0.0.1/",
        "http://127.255.255.254:8080/v1",
        "http://0.0.0.0/",
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://172.31.255.255/",
        "http://192.168.0.1/",
        "http://100.64.0.1/",
        "http://100.127.255.255/",
        "http://169.254.169.254/latest/meta-data/",
        "http://169.254.1.1/",
        "http://192.0.0.8/",
        "http://192.0.2.1/",
        "http://198.18.0.1/",
        "http://198.19.255.255/",
        "http://224.0.0.1/",
        "http://239.255.255.250/",
        "http://240.0.0.1/",
        "http://255.255.255.255/",
        "http://[::1]/",
        "http://[::]/",
        "http://[fe80::1]/",
        "http://[febf::1]/",
        "http://[fec0::1]/",
        "http://[fc00::1]/",
        "http://[fd12:3456::1]/",
        "http://[ff02::1]/",
        "http://[2001:db8::1]/",
        "http://[100::1]/",
        "http://[64:ff9b:1::1]/",
        // IPv6 forms that embed a disallowed IPv4 address
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[0:0:0:0:0:ffff:127.0.0.1]",
        "http://[::FFFF:169.254.169.254]/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://[::127.0.0.1]/",
        "http://[::7f00:1]/",
        "http://[::10.0.0.1]/",
        "http://[::ffff:0:127.0.0.1]/",
        "http://[64:ff9b::127.0.0.1]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[64:ff9b::10.0.0.1]/",
        "http://[2002:7f00:1::]/",
        "http://[2002:a9fe:a9fe::1]/",
        "http://[2002:c0a8:101::1]/",
        "http://[2001:0:7f00:1::1]/",
        "http://[2001:0:5db8:1::80ff:fffe]/", // Teredo client 127.0.0.1 (stored inverted)
      })
  void literalAddressesThatMustNotBeReached(String url) {
    var strict = new EgressPolicy(List.of(), NO_DNS);
    assertThat(rejected(strict.check(url)))
        .startsWith("base URL points to ")
        .endsWith("; ask an operator to allowlist it");
  }

  @Test
  void embeddedAddressesAreNamedInTheMessage() {
    var strict = new EgressPolicy(List.of(), NO_DNS);
    assertThat(rejected(strict.check("http://[::ffff:127.0.0.1]/")))
        .isEqualTo(
            "base URL points to a loopback address 127.0.0.1; ask an operator to allowlist it");
    assertThat(rejected(strict.check("http://[64:ff9b::a9fe:a9fe]/")))
        .contains(
            "64:ff9b:0:0:0:0:a9fe:a9fe, which embeds the cloud metadata address 169.254.169.254");
    assertThat(rejected(strict.check("http://[2002:a00:1::]/")))
        .contains("which embeds a private address 10.0.0.1");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "http://93.184.216.34/",
        "http://8.8.8.8:80/v1",
        "http://172.32.0.1/",
        "http://100.128.0.1/",
        "http://[2606:4700:4700::1111]/",
        "http://[::ffff:8.8.8.8]/",
        "http://[64:ff9b::8.8.8.8]/",
        "http://[2002:808:808::1]/",
      })
  void publicLiteralsAreAllowedWithoutLookup(String url) {
    var strict = new EgressPolicy(List.of(), NO_DNS);
    assertThat(strict.check(url).allowed()).as(url).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "http://2130706433/",
        "http://0177.0.0.1/",
        "http://0x7f.0.0.1/",
        "http://0x7f000001/",
        "http://017700000001/",
        "http://127.1/",
        "http://127.0.1/",
        "http://127.0.0.1./",
        "http://0/",
        "http://0x0/",
        "http://00.0.0.0/",
        "http://3232235777/", // 192.168.1.1
        "http://0xa9.0xfe.0xa9.0xfe/", // metadata
        "http://2852039166/", // metadata
      })
  void nonStandardNumericHostsAreRejectedWithoutLookup(String url) {
    var strict = new EgressPolicy(List.of(), NO_DNS);
    assertThat(rejected(strict.check(url))).contains("non-standard notation for");
  }

  @Test
  void nonStandardNotationNamesWhatItMeans() {
    var strict = new EgressPolicy(List.of(), NO_DNS);
    assertThat(rejected(strict.check("http://2130706433/")))
        .isEqualTo(
            "base URL host '2130706433' is a non-standard notation for a loopback address"
                + " 127.0.0.1; such hosts are not allowed");
    assertThat(rejected(strict.check("http://0177.0.0.1/"))).contains("127.0.0.1");
    assertThat(rejected(strict.check("http://0x7f.0.0.1/"))).contains("127.0.0.1");
    assertThat(rejected(strict.check("http://134744072/")))
        .isEqualTo(
            "base URL host '134744072' is a non-standard notation for 8.8.8.8; write it as 8.8.8.8");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "ftp://example.com/",
        "file:///etc/passwd",
        "gopher://api.example.com/",
        "jar:http://api.example.com/x.jar!/",
        "mailto:me@example.com",
        "//api.example.com/v1",
        "/v1/chat",
        "https://user:pass@api.example.com/",
        "https://user@api.example.com/",
        "https://api.example.com/#frag",
        "https:///nohost",
        "http://foo_bar/",
        "http://[::1/",
        "http://[fe80::1%25eth0]/",
        "http://999.1.1.1/",
        "http://1.2.3.4.5/",
        "http://foo.123/",
        "http://foo.0x1f/",
        "http://0x1g.1.1.1/",
        "http://08.1.1.1/",
        "not a url",
        "",
        "   ",
      })
  void malformedOrNonHttpUrlsAreRejected(String url) {
    var strict = new EgressPolicy(List.of(), NO_DNS);
    assertThat(strict.check(url).allowed()).as(url).isFalse();
  }

  @Test
  void rejectionsNameNoMoreThanTheHost() {
    assertThat(rejected(policy.check("https://u:s3cr3t@api.example.com/")))
        .doesNotContain("s3cr3t");
    assertThat(rejected(policy.check("https://internal.example.com/?key=s3cr3t")))
        .doesNotContain("s3cr3t");
    assertThat(rejected(policy.check("https://api.example.com/#s3cr3t"))).doesNotContain("s3cr3t");
  }

  @Test
  void allowlistOverridesByHostByAddressAndByRange() {
    var allowing =
        new EgressPolicy(
            List.of(" LMStudio.LAN. ", "127.0.0.1", "10.0.0.0/8", "[::1]", "fd00::/8", ""),
            dns(ZONE));
    assertThat(allowing.check("http://lmstudio.lan:1234/v1").allowed()).isTrue();
    assertThat(((Allowed) allowing.check("http://lmstudio.lan:1234/v1")).addresses())
        .as("an allowlisted name is not resolved")
        .isEmpty();
    assertThat(allowing.check("http://127.0.0.1:1234/v1").allowed()).isTrue();
    assertThat(allowing.check("http://[::ffff:127.0.0.1]:1234/v1").allowed()).isTrue();
    assertThat(allowing.check("http://localhost:1234/v1").allowed())
        .as("localhost resolves to 127.0.0.1 and ::1, both allowlisted")
        .isTrue();
    assertThat(allowing.check("http://internal.example.com/").allowed()).isTrue();
    assertThat(allowing.check("http://[fd12::1]/").allowed()).isTrue();
    assertThat(allowing.check("http://[64:ff9b::10.1.1.1]/").allowed())
        .as("an allowlisted IPv4 range covers its NAT64 form")
        .isTrue();

    assertThat(allowing.check("http://127.0.0.2/").allowed()).isFalse();
    assertThat(allowing.check("http://metadata.example.com/").allowed()).isFalse();
    assertThat(allowing.check("http://192.168.1.50/").allowed())
        .as("allowing a name does not allow its address")
        .isFalse();
    assertThat(allowing.check("http://127.1:1234/").allowed())
        .as("non-standard notation stays rejected")
        .isFalse();
  }

  @Test
  void connectTimeChecks() throws Exception {
    var allowing = new EgressPolicy(List.of("lmstudio.lan", "192.168.7.0/24"), NO_DNS);
    InetAddress metadata = InetAddress.getByName("169.254.169.254");
    InetAddress lan = InetAddress.getByName("192.168.1.50");
    assertThat(allowing.isAllowed(metadata)).isFalse();
    assertThat(allowing.whyBlocked(metadata))
        .contains("the cloud metadata address 169.254.169.254");
    assertThat(allowing.isAllowed(InetAddress.getByName("93.184.216.34"))).isTrue();
    assertThat(allowing.whyBlocked(InetAddress.getByName("93.184.216.34"))).isEmpty();
    assertThat(allowing.isAllowed(InetAddress.getByName("192.168.7.9"))).isTrue();
    assertThat(allowing.isAllowed(lan)).isFalse();
    assertThat(allowing.isAllowed("lmstudio.lan", lan)).isTrue();
    assertThat(allowing.isAllowed("LMSTUDIO.lan.", lan)).isTrue();
    assertThat(allowing.isAllowed("evil.example.com", lan)).isFalse();
    // An IPv4-mapped address kept as Inet6Address (as a raw socket address might carry it).
    byte[] mapped = new byte[16];
    mapped[10] = (byte) 0xff;
    mapped[11] = (byte) 0xff;
    mapped[12] = 127;
    mapped[15] = 1;
    InetAddress v6 = java.net.Inet6Address.getByAddress(null, mapped, -1);
    assertThat(v6).isInstanceOf(java.net.Inet6Address.class);
    assertThat(allowing.isAllowed(v6)).isFalse();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "10.0.0.0/33",
        "10.0.0.0/x",
        "localhost/8",
        "::1/129",
        "*.example.com",
        "0177.0.0.1",
        "127.1",
        "has space",
        "http://example.com"
      })
  void badAllowlistEntriesFailAtStart(String entry) {
    assertThatThrownBy(() -> EgressPolicy.of(List.of(entry)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("egress allowlist entry");
  }
}
