/**
 * Large synthetic Criminal IP asset reports (GET /v1/asset/ip/report?full=true), shaped like the
 * public sample (bench/fixtures/asset_ip_report.json): the sizes real busy hosts reach (a CDN
 * address with a thousand domains, hundreds of open ports, hundreds of CVEs) and a ~5 MB body
 * padded with port history, as the full report keeps older records of each port.
 *
 * Deterministic: the same shape and seed give the same body, so runs compare.
 */
import { seededRandom } from '../../lib/standins/seeded-random';

export interface ReportShape {
  /** The address the report is about (a public IPv4). */
  ip: string;
  domains: number;
  /** Distinct open ports (one current record each). */
  ports: number;
  /** Distinct CVEs. */
  cves: number;
  /** Pad with older port records until the JSON body has at least this many bytes. */
  minBytes?: number;
  seed?: number;
}

/** The sizes the issue names: 1,000 domains, 300 ports, 500 CVEs. */
export const LARGE: Omit<ReportShape, 'ip'> = { domains: 1000, ports: 300, cves: 500 };
/** The same, padded to a 5 MB body. */
export const FIVE_MB: Omit<ReportShape, 'ip'> = { ...LARGE, minBytes: 5 * 1024 * 1024 };

const PRODUCTS: ReadonlyArray<[string, string]> = [
  ['nginx', '1.14.0'],
  ['nginx', '1.18.0'],
  ['Apache httpd', '2.4.29'],
  ['Apache httpd', '2.4.49'],
  ['OpenSSH', '7.4'],
  ['OpenSSH', '8.2p1'],
  ['Microsoft IIS httpd', '10.0'],
  ['MySQL', '5.7.33'],
  ['PostgreSQL', '12.4'],
  ['Redis', '6.0.9'],
  ['Exim smtpd', '4.94'],
  ['Postfix smtpd', '3.4.13'],
  ['Dovecot imapd', '2.3.13'],
  ['ProFTPD', '1.3.5'],
  ['vsftpd', '3.0.3'],
  ['lighttpd', '1.4.55'],
  ['OpenResty', '1.19.3.1'],
  ['Jetty', '9.4.31'],
  ['Apache Tomcat', '9.0.41'],
  ['Elasticsearch', '7.10.1'],
  ['MongoDB', '4.4.3'],
  ['Memcached', '1.6.9'],
  ['Dropbear sshd', '2019.78'],
  ['Squid http proxy', '4.13'],
  ['Unknown', 'Unknown'],
];

const PROTOCOLS = ['HTTP', 'HTTPS', 'SSH', 'FTP', 'SMTP', 'IMAP', 'MySQL', 'Redis', 'RDP', 'DNS'];
const TECHNOLOGIES = ['jQuery', 'Bootstrap', 'PHP', 'WordPress', 'React', 'Vue.js', 'Google Analytics'];
const WORDS = (
  'a remote attacker could exploit a buffer overflow in the request parser to execute arbitrary code ' +
  'or cause a denial of service via crafted packets sent to an exposed service with default settings'
).split(' ');

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function sentence(random: () => number, words: number): string {
  return Array.from({ length: words }, () => pick(random, WORDS)).join(' ');
}

function stamp(random: () => number, yearFrom = 2019): string {
  const year = yearFrom + Math.floor(random() * 6);
  const month = String(1 + Math.floor(random() * 12)).padStart(2, '0');
  const day = String(1 + Math.floor(random() * 28)).padStart(2, '0');
  const hour = String(Math.floor(random() * 24)).padStart(2, '0');
  return `${year}-${month}-${day} ${hour}:13:37`;
}

/** Distinct port numbers: the common ones first, then spread over the range. */
function portNumbers(count: number, random: () => number): number[] {
  const ports = new Set<number>([21, 22, 25, 53, 80, 110, 143, 443, 3306, 3389, 5432, 6379, 8080, 8443]);
  while (ports.size < count) ports.add(1024 + Math.floor(random() * 64000));
  return [...ports].slice(0, count);
}

function portRecord(random: () => number, port: number, confirmed: string, bannerWords: number) {
  const [app, version] = pick(random, PRODUCTS);
  return {
    app_name: app,
    confirmed_time: confirmed,
    banner: `HTTP/1.1 200 OK\nServer: ${app}/${version}\nContent-Type: text/html\n\n${sentence(random, bannerWords)}`,
    app_version: version,
    open_port_no: port,
    port_status: 'open',
    protocol: pick(random, PROTOCOLS),
    socket: random() < 0.9 ? 'tcp' : 'udp',
    tags: random() < 0.2 ? ['Remote Access'] : [],
    dns_names: null,
    sdn_common_name: null,
    jarm_hash: null,
    ssl_info_raw: random() < 0.3 ? `TLS Certificate\nVersion: 3\nIssuer: CN=${sentence(random, 4)}` : null,
    technologies:
      random() < 0.4
        ? [
            {
              tech_name: pick(random, TECHNOLOGIES),
              tech_version: '1.0',
              tech_logo_url: 'https://example.com/logo.png',
            },
          ]
        : [],
    is_vulnerability: random() < 0.3,
  };
}

function cveRecord(random: () => number, index: number) {
  const [app, version] = pick(random, PRODUCTS.slice(0, -1));
  const id = `CVE-${2015 + (index % 10)}-${String(10000 + index).padStart(5, '0')}`;
  const cvss3 = Math.round(random() * 100) / 10;
  return {
    cve_id: id,
    cve_description: sentence(random, 40),
    cvssv2_vector: 'NETWORK',
    cvssv2_score: Math.round(random() * 100) / 10,
    cvssv3_vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
    cvssv3_score: cvss3,
    list_cwe: [
      {
        cve_id: id,
        cwe_id: 120,
        cwe_name: 'Buffer Copy without Checking Size of Input',
        cwe_description: sentence(random, 12),
      },
    ],
    list_edb:
      random() < 0.1
        ? [
            {
              cve_id: id,
              edb_id: 40000 + index,
              type: 'REMOTE',
              platform: 'LINUX',
              verify_code: 0,
              title: sentence(random, 5),
              confirmed_time: '2023-04-01',
            },
          ]
        : [],
    app_name: app,
    app_version: version,
    open_port_no_list: { TCP: [80, 443], UDP: [] },
    have_more_ports: false,
    open_port_no: [{ port: 443, socket: 'tcp' }],
    list_child: [],
    vendor: app.split(' ')[0]!.toLowerCase(),
    type: 'a',
    is_vuln: 'True',
    target_hw: '*',
    target_sw: '*',
    update: '*',
    edition: '*',
  };
}

/** A full asset report with the given numbers of domains, ports and CVEs. */
export function syntheticIpReport(shape: ReportShape): Record<string, unknown> {
  const random = seededRandom(shape.seed ?? 7);
  const ports = portNumbers(shape.ports, random);
  const portData = ports.map((port) => portRecord(random, port, stamp(random, 2024), 20));
  const domains = Array.from({ length: shape.domains }, (_, i) => ({
    domain: `site-${i}.example-${i % 97}.com`,
    ip_type: 'Unknown',
    registrar: 'Example Registrar, Inc.',
    create_date: stamp(random),
    confirmed_time: stamp(random, 2023),
    email: `abuse@example-${i % 97}.com`,
  }));
  const report: Record<string, unknown> = {
    ip: shape.ip,
    issues: {
      is_vpn: false,
      is_cloud: true,
      is_tor: false,
      is_proxy: false,
      is_hosting: true,
      is_mobile: false,
      is_darkweb: false,
      is_scanner: true,
      is_snort: true,
      is_anonymous_vpn: false,
    },
    score: { inbound: 'Critical', outbound: 'Dangerous' },
    user_search_count: 12,
    protected_ip: { count: 0, data: [] },
    domain: { count: domains.length, data: domains },
    whois: {
      count: 1,
      data: [
        {
          as_name: 'EXAMPLE-TRANSIT',
          as_no: 64500,
          city: 'San Jose',
          region: 'California',
          org_name: 'Example Hosting',
          postal_code: '',
          longitude: -121.8916,
          latitude: 37.3388,
          org_country_code: 'us',
          confirmed_time: '2024-04-04 00:00:00',
        },
      ],
    },
    hostname: {
      count: 3,
      data: [1, 2, 3].map((n) => ({
        domain_name_rep: 'example-hosting.net',
        domain_name_full: `host-${n}.example-hosting.net`,
        confirmed_time: stamp(random, 2024),
      })),
    },
    ids: {
      count: 20,
      data: Array.from({ length: 20 }, () => ({
        classification: 'trojan-activity',
        url: 'doc.emergingthreats.net/bin/view/Main/BotCC',
        message: `ET CNC ${sentence(random, 4)}`,
        confirmed_time: stamp(random, 2024),
        source_system: './snort-2.9.0 9949',
      })),
    },
    vpn: { count: 0, data: [] },
    anonymous_vpn: { count: 0, data: [] },
    webcam: { count: 0, data: [] },
    honeypot: {
      count: 20,
      data: Array.from({ length: 20 }, () => ({
        ip_address: shape.ip,
        log_date: '2024-06-15',
        dst_port: pick(random, ports),
        message: `[15/Jun/2024:00:00:10] ${sentence(random, 3)}`,
        user_agent: '-',
        protocol_type: 'tcp',
        confirmed_time: '2024-06-15',
      })),
    },
    ip_category: {
      count: 2,
      data: [
        { detect_source: 'C-TAS', type: 'scanner', detect_info: {}, confirmed_time: stamp(random, 2024) },
        { detect_source: '', type: 'hosting', detect_info: {}, confirmed_time: stamp(random, 2024) },
      ],
    },
    port: { count: portData.length, data: portData },
    vulnerability: {
      count: shape.cves,
      data: Array.from({ length: shape.cves }, (_, i) => cveRecord(random, i)),
    },
    mobile: { count: 0, data: [] },
    status: 200,
  };

  if (shape.minBytes !== undefined) {
    // Older records of the same ports, as the full report lists them, until the body is big enough.
    let size = Buffer.byteLength(JSON.stringify(report));
    while (size < shape.minBytes) {
      const record = portRecord(random, pick(random, ports), stamp(random, 2019), 200);
      const missing = Math.ceil((shape.minBytes - size) / (Buffer.byteLength(JSON.stringify(record)) + 1));
      portData.push(record);
      for (let i = 1; i < missing; i += 1) {
        portData.push(portRecord(random, pick(random, ports), stamp(random, 2019), 200));
      }
      size = Buffer.byteLength(JSON.stringify(report));
    }
    (report.port as { count: number }).count = portData.length;
  }
  return report;
}
