// The behavioural suite over upgrade (see lib/behaviour.mjs).
import { defineBehaviourSuite } from "../lib/behaviour.mjs";

defineBehaviourSuite("upgrade");
