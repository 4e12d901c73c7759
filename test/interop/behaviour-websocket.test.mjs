// The behavioural suite over websocket (see lib/behaviour.mjs).
import { defineBehaviourSuite } from "../lib/behaviour.mjs";

defineBehaviourSuite("websocket");
