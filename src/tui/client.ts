/**
 * The narrow view of the daemon client that the TUIs use. The real one (shared/daemon-client.ts)
 * satisfies it structurally; tests hand a fake, so no screen ever needs a running daemon to be
 * exercised. Metrics arrive as `unknown` because they cross a process boundary: the hooks check
 * them with isMetricsSnapshot before use.
 */
import type {
  ChannelInput,
  ChannelTestResult,
  ChannelView,
  KeyCreated,
  KeyInput,
  KeyView,
  LogQuery,
  LogRow,
  PriceInput,
  PriceView,
} from '../shared/control-api.js';
import type {
  CreditAnswer,
  CreditInput,
  RedeemCodeInput,
  RedeemCodesCreated,
  SignupAnswer,
  UserInput,
  UserView,
} from '../shared/tenant-api.js';

export interface MetricsSource {
  metricsSnapshot(): Promise<unknown>;
  /** one parsed document per snapshot until `signal` aborts; ends or throws when the daemon goes away */
  metricsStream(signal?: AbortSignal): AsyncIterable<unknown>;
}

/** What the users view of `bc top` reads besides the stream: the balances. */
export interface UserBalanceSource {
  users: { list(): Promise<UserView[]> };
}

export interface ManagementClient extends MetricsSource {
  channels: {
    list(): Promise<ChannelView[]>;
    add(input: ChannelInput): Promise<ChannelView>;
    edit(id: string | number, input: ChannelInput): Promise<ChannelView>;
    enable(id: string | number): Promise<ChannelView>;
    disable(id: string | number): Promise<ChannelView>;
    remove(id: string | number): Promise<unknown>;
    test(id: string | number, model?: string): Promise<ChannelTestResult>;
  };
  keys: {
    list(): Promise<KeyView[]>;
    create(input: KeyInput): Promise<KeyCreated>;
    edit(id: string | number, input: KeyInput): Promise<KeyView>;
    enable(id: string | number): Promise<KeyView>;
    disable(id: string | number): Promise<KeyView>;
    revoke(id: string | number): Promise<KeyView>;
  };
  prices: {
    list(): Promise<PriceView[]>;
    set(model: string, input: PriceInput): Promise<PriceView>;
    remove(model: string): Promise<unknown>;
  };
  logs(query?: LogQuery): Promise<LogRow[]>;
  users: {
    list(): Promise<UserView[]>;
    create(input: UserInput): Promise<UserView | SignupAnswer>;
    enable(id: string | number): Promise<UserView>;
    disable(id: string | number): Promise<UserView>;
    credit(id: string | number, input: CreditInput): Promise<CreditAnswer>;
  };
  redeem: {
    create(input: RedeemCodeInput): Promise<RedeemCodesCreated>;
  };
}

/** The daemon's message for an error, without a stack: what a screen shows. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
