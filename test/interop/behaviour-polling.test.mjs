// The behavioural suite over polling (see lib/behaviour.mjs).
import { defineBehaviourSuite } from "../lib/behaviour.mjs";

defineBehaviourSuite("polling");
