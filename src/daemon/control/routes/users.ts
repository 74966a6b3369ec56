/**
 * User routes (SPEC section 11): tenants who own keys and a balance. Every balance change is the
 * store's one transaction (balance + ledger row); the route then hands the committed changes to
 * `balancesChanged`, which moves the gateway's in-memory ledger by exactly them. Status changes
 * refresh the snapshot, so a disabled user's keys are refused from the next request on.
 */
import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../../../shared/control-api.js';
import { BcError } from '../../../shared/errors.js';
import type { UserView } from '../../../shared/tenant-api.js';
import type { Services } from '../../service-types.js';
import type { UserPatch, UserRecord } from '../../store/types.js';
import { mustGetUser, on, userNames, type ControlContext } from '../context.js';
import { validateCredit, validateUserInput } from '../validate-user.js';
import { ledgerView, userView } from '../views.js';
import { DEFAULT_LOG_LIMIT } from '../validate.js';
import { signup } from '../../tenants/signup.js';

export function userRoutes(app: FastifyInstance, ctx: ControlContext): void {
  const { services } = ctx;

  on(app, ROUTES.userList, async () => {
    const users = await services.store.listUsers();
    const counts = await keyCounts(services);
    const names = new Map(users.map((u) => [u.id, u.name]));
    return users.map((u) => userView(u, counts.get(u.id) ?? 0, names));
  });

  on(app, ROUTES.userShow, async (req) => view(services, await mustGetUser(services, req.params.id)));

  on(app, ROUTES.userCreate, async (req, reply) => {
    const input = validateUserInput(req.body, true);
    if (input.invite !== undefined) {
      // an invitation decides the group and the starting balance
      if (input.balance !== undefined || input.group !== undefined || input.unmetered !== undefined)
        throw new BcError(
          'INVALID_REQUEST',
          'a user created with an invitation takes its group and balance from it: drop --group, --balance and --unmetered',
        );
      const answer = await signup(services, { code: input.invite, name: input.name, ip: null });
      return reply.status(201).send(answer);
    }
    const { user, changes } = await services.store.createUser({
      name: input.name!,
      group: input.group ?? 'default',
      balance: input.unmetered === true ? null : (input.balance ?? 0),
      rpm: input.rpm ?? null,
      tpm: input.tpm ?? null,
      concurrency: input.concurrency ?? null,
      maxKeys: input.max_keys ?? null,
      note: input.note ?? null,
      actor: 'admin',
    });
    await services.balancesChanged(changes);
    return reply.status(201).send(await view(services, user));
  });

  on(app, ROUTES.userEdit, async (req) => {
    const u = await mustGetUser(services, req.params.id);
    const input = validateUserInput(req.body, false);
    const patch: UserPatch = {};
    if (input.name !== undefined) patch.name = input.name;
    if (input.group !== undefined) patch.group = input.group;
    if (input.rpm !== undefined) patch.rpm = input.rpm;
    if (input.tpm !== undefined) patch.tpm = input.tpm;
    if (input.concurrency !== undefined) patch.concurrency = input.concurrency;
    if (input.max_keys !== undefined) patch.maxKeys = input.max_keys;
    if (input.note !== undefined) patch.note = input.note;
    if (input.unmetered !== undefined) patch.unmetered = input.unmetered;
    const updated = await services.store.updateUser(u.id, patch);
    if (input.unmetered !== undefined && (u.balance === null) !== (updated.balance === null)) {
      // metered <-> unmetered: the gateway's wallet is dropped or seeded afresh from the store
      await services.balancesChanged([]);
    } else await services.refresh();
    return view(services, updated);
  });

  on(app, ROUTES.userEnable, async (req) => setStatus(services, req.params.id, 'enabled'));
  on(app, ROUTES.userDisable, async (req) => setStatus(services, req.params.id, 'disabled'));

  on(app, ROUTES.userRemove, async (req) => {
    const u = await mustGetUser(services, req.params.id);
    const force = (req.query as { force?: string }).force === 'true';
    if (!force) {
      const enabledKeys = (await services.store.listKeys()).filter(
        (k) => k.userId === u.id && k.status === 'enabled',
      ).length;
      if ((u.balance !== null && u.balance !== 0) || enabledKeys > 0) {
        throw new BcError(
          'CONFLICT',
          `user "${u.name}" still has ${u.balance ? `a balance of ${u.balance} micro-USD` : 'no balance'} and ${enabledKeys} enabled key(s): pass --force to revoke the keys and zero the balance`,
        );
      }
    }
    const { user, changes } = await services.store.removeUser(u.id, 'admin');
    await services.balancesChanged(changes);
    return userView(user, 0, await userNames(services));
  });

  on(app, ROUTES.userCredit, async (req) => {
    const u = await mustGetUser(services, req.params.id);
    const c = validateCredit(req.body);
    const r = await services.store.creditUser({
      userId: u.id,
      kind: c.kind,
      amount: c.amount,
      note: c.note ?? null,
      actor: 'admin',
      allowNegative: c.allow_negative === true,
    });
    await services.balancesChanged(r.changes);
    return { user: await view(services, r.user), entry: ledgerView(r.entry, r.user.name) };
  });

  on(app, ROUTES.userLedger, async (req) => {
    const u = await mustGetUser(services, req.params.id);
    const raw = (req.query as { limit?: string }).limit;
    const limit = raw === undefined ? DEFAULT_LOG_LIMIT : Number(raw);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000)
      throw new BcError('INVALID_REQUEST', 'limit must be a whole number from 1 to 10000', {
        param: 'limit',
      });
    return (await services.store.userLedger(u.id, limit)).map((e) => ledgerView(e, u.name));
  });
}

async function setStatus(services: Services, ref: string | undefined, status: 'enabled' | 'disabled') {
  const u = await mustGetUser(services, ref);
  const updated = u.status === status ? u : await services.store.updateUser(u.id, { status });
  await services.refresh();
  return view(services, updated);
}

/** Keys per user that are not revoked (what max_keys counts). */
async function keyCounts(services: Services): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  for (const k of await services.store.listKeys()) {
    if (k.userId !== null && k.status !== 'revoked') counts.set(k.userId, (counts.get(k.userId) ?? 0) + 1);
  }
  return counts;
}

async function view(services: Services, u: UserRecord): Promise<UserView> {
  const counts = await keyCounts(services);
  return userView(u, counts.get(u.id) ?? 0, await userNames(services));
}
