/** argon2id through Bun.password, with its default cost parameters. */
export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, { algorithm: "argon2id" });
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return Bun.password.verify(password, hash);
}

/** What checks a password against its hash: argon2id here; passed in so tests can count the checks. */
export interface PasswordVerifier {
  verify(password: string, hash: string): Promise<boolean>;
}

export const argon2Verifier: PasswordVerifier = { verify: verifyPassword };

/**
 * A real hash of a random password, computed once. Logins for unknown emails verify against it
 * so "no such user" costs the same time as "wrong password" and the two cannot be told apart.
 */
let dummyHash: Promise<string> | undefined;
export function timingDummyHash(): Promise<string> {
  dummyHash ??= hashPassword(crypto.randomUUID());
  return dummyHash;
}
