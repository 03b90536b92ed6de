/**
 * Response shapes of the Criminal IP endpoints this product calls. Every field is optional and
 * typed as loosely as the API is consistent: these types document what to expect; the readers in
 * parse.ts decide what a value means. Field lists follow docs/criminalip-api.md §7.
 */

/** Envelope fields every body may carry. */
export interface Envelope {
  status?: number | string;
  message?: string;
}

/** Most list sections: `{count, data}`. */
export interface Section<T> {
  count?: number;
  data?: T[];
}

export type ScoreText = string;

export interface IpIssues {
  is_vpn?: boolean;
  is_cloud?: boolean;
  is_tor?: boolean;
  is_proxy?: boolean;
  is_hosting?: boolean;
  is_mobile?: boolean;
  is_darkweb?: boolean;
  is_scanner?: boolean;
  is_snort?: boolean;
  is_anonymous_vpn?: boolean;
}

export interface WhoisItem {
  as_name?: string | null;
  as_no?: number | string | null;
  city?: string | null;
  region?: string | null;
  org_name?: string | null;
  postal_code?: string | null;
  longitude?: number | null;
  latitude?: number | null;
  org_country_code?: string | null;
  confirmed_time?: string;
}

export interface PortItem {
  app_name?: string;
  app_version?: string;
  banner?: string;
  confirmed_time?: string;
  port_status?: string;
  protocol?: string;
  open_port_no?: number;
  socket?: string;
  tags?: string[];
  dns_names?: string;
  sdn_common_name?: string;
  jarm_hash?: string;
  ssl_info_raw?: string;
  technologies?: { tech_name?: string; tech_version?: string; tech_logo_url?: string }[];
  is_vulnerability?: boolean;
}

export interface VulnerabilityItem {
  cve_id?: string;
  cve_description?: string;
  cvssv2_vector?: string;
  cvssv2_score?: number;
  cvssv3_vector?: string;
  cvssv3_score?: number;
  list_cwe?: { cve_id?: string; cwe_id?: number; cwe_name?: string; cwe_description?: string }[];
  list_edb?: {
    cve_id?: string;
    edb_id?: number;
    type?: string;
    platform?: string;
    verify_code?: number;
    title?: string;
    confirmed_time?: string;
  }[];
  app_name?: string;
  app_version?: string;
  vendor?: string;
  open_port_no_list?: { TCP?: number[]; UDP?: number[] };
  open_port_no?: { port?: number; socket?: string }[];
}

export interface VpnItem {
  vpn_name?: string;
  vpn_url?: string;
  vpn_source_url?: string;
  socket_type?: string;
  confirmed_time?: string;
}

export interface IdsItem {
  classification?: string;
  url?: string;
  message?: string;
  confirmed_time?: string;
  source_system?: string;
}

/** GET /v1/asset/ip/report?ip=&full=true: the payload is at the top level. */
export interface AssetIpReport extends Envelope {
  ip?: string;
  issues?: IpIssues;
  score?: { inbound?: ScoreText; outbound?: ScoreText };
  user_search_count?: number;
  protected_ip?: Section<{ ip_address?: string; confirmed_time?: string }>;
  domain?: Section<{
    domain?: string;
    ip_type?: string;
    registrar?: string;
    create_date?: string;
    confirmed_time?: string;
    email?: string;
  }>;
  whois?: Section<WhoisItem>;
  hostname?: Section<{ domain_name_rep?: string; domain_name_full?: string; confirmed_time?: string }>;
  ids?: Section<IdsItem>;
  vpn?: Section<VpnItem>;
  anonymous_vpn?: Section<VpnItem>;
  webcam?: Section<Record<string, unknown>>;
  honeypot?: Section<{
    ip_address?: string;
    log_date?: string;
    dst_port?: number;
    message?: string;
    user_agent?: string;
    protocol_type?: string;
    confirmed_time?: string;
  }>;
  ip_category?: Section<{
    detect_source?: string;
    type?: string;
    detect_info?: { md5?: string; domain?: string };
    confirmed_time?: string;
  }>;
  port?: Section<PortItem>;
  vulnerability?: Section<VulnerabilityItem>;
  mobile?: Section<{ broadband?: string; organization?: string }>;
}

export interface OpenedPortItem {
  socket_type?: string;
  port?: number;
  protocol?: string;
  product_name?: string;
  product_version?: string;
  has_vulnerability?: boolean;
  is_vulnerability?: boolean;
  confirmed_time?: string;
}

/** GET /v1/feature/ip/malicious-info */
export interface MaliciousInfo extends Envelope {
  ip?: string;
  is_malicious?: boolean;
  is_vpn?: boolean;
  is_anonymous_vpn?: boolean;
  can_remote_access?: boolean;
  current_opened_port?: Section<OpenedPortItem>;
  remote_port?: Section<OpenedPortItem>;
  vulnerability?: Section<{
    cve_id?: string;
    cwe_ids?: unknown[];
    edb_ids?: unknown[];
    ports?: { tcp?: number[]; udp?: number[] };
    cvssv2_vector?: string;
    cvssv2_score?: number;
    cvssv3_vector?: string;
    cvssv3_score?: number;
    product_name?: string;
    product_version?: string;
    product_vendor?: string;
  }>;
  ids?: Section<IdsItem>;
  scanning_record?: Section<Record<string, unknown>>;
  ip_category?: Section<{ type?: string; detect_source?: string; confirmed_time?: string }>;
}

/** GET /v2/feature/ip/suspicious-info */
export interface SuspiciousInfo extends Envelope {
  ip?: string;
  abuse_record_count?: number;
  score?: { inbound?: ScoreText; outbound?: ScoreText };
  issues?: IpIssues;
  current_opened_port?: Section<OpenedPortItem>;
  ids?: Section<IdsItem>;
  whois?: Section<WhoisItem>;
  representative_domain?: string;
}

/** An item of GET /v1/domain/reports (older answers call the list `items`). */
export interface DomainReportListItem {
  scan_id?: number | string;
  reg_dtime?: string;
  title?: string;
  url?: string;
  score?: string;
  countries?: string[];
  country_code?: string[];
  connected_ip_cnt?: number;
  technologies?: unknown[];
  issues?: unknown;
}

export interface DomainReports extends Envelope {
  data?: { count?: number; reports?: DomainReportListItem[]; items?: DomainReportListItem[] };
}

/** POST /v1/domain/scan and GET /v1/domain/lite/scan */
export interface ScanStarted extends Envelope {
  data?: { query?: string; scan_id?: number | string };
}

/** GET /v1/domain/status/{id} and GET /v1/domain/lite/progress */
export interface ScanStatus extends Envelope {
  data?: { scan_percentage?: number };
}

export interface ScoredIp {
  ip?: string;
  score?: ScoreText;
  as_name?: string;
  country?: string;
}

/** GET /v2/domain/report/{id}: the main keys (§7.7); the report carries many more. */
export interface DomainReport extends Envelope {
  data?: {
    report_time?: string;
    main_domain_info?: {
      changed_url?: string;
      dns_ip_asn?: string;
      domain_created?: string;
      domain_registrar?: string;
      domain_score?: { score?: ScoreText; score_num?: number; score_percentage?: number };
      inserted_url?: string;
      main_domain?: string;
      title?: string;
    };
    classification?: {
      dga_score?: number;
      domain_type?: { name?: string; type?: string }[];
      google_safe_browsing?: unknown[];
    };
    mapped_ip?: ScoredIp[];
    connected_ip?: ScoredIp[];
    dns_record?: {
      dns_record_type_a?: { ipv4?: ScoredIp[]; ipv6?: ScoredIp[] };
      dns_record_type_cname?: unknown[];
      dns_record_type_mx?: unknown[];
      dns_record_type_ns?: unknown[];
    };
    certificates?: {
      certificate_life?: string;
      issuer?: string;
      protocol?: string;
      subject?: string;
      valid_from?: string;
      valid_to?: string;
    }[];
    subdomains?: { subdomain_name?: string }[];
    technologies?: { categories?: string[]; name?: string; version?: string; vulner?: unknown[] }[];
    summary?: Record<string, unknown> & { url_phishing_prob?: number; phishing_record?: number };
    [key: string]: unknown;
  };
}

/** GET /v1/domain/lite/report/{id}: `domain_score` is text such as "20% (Safe)". */
export interface LiteReport extends Envelope {
  data?: {
    classification?: { dga_score?: number; domain_type?: string[] };
    dns_record?: { dns_record_type_a?: { ipv4?: string[]; ipv6?: string[] } } & Record<string, unknown>;
    domain_score?: string;
    main_domain_info?: {
      changed_url?: string;
      domain_created?: string;
      domain_registrar?: string;
      inserted_url?: string;
      main_domain?: string;
    };
    mapped_ip?: ScoredIp[];
    real_ip?: unknown[];
    report_time?: string;
    summary?: Record<string, unknown> & { url_phishing_prob?: number };
  };
}

/** GET /v1/domain/quick/hash/view: an instant verdict, before any scan (§7.6). */
export interface QuickVerdict extends Envelope {
  data?: {
    call_count?: number;
    domain?: string;
    reg_dtime?: string;
    result?: string;
    /** e.g. `searchengine`, `trusted-domain`. */
    type?: string;
  };
}

/** POST /v1/user/me, with `api_key` removed by the client before anyone sees it. */
export interface Account {
  account_type?: string;
  email?: string;
  last_access_date?: string;
  /** Searches (credits) left on the plan. */
  max_search?: number;
  membership_date?: string;
  name?: string;
}
