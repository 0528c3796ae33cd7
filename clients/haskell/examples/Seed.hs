{-# LANGUAGE DataKinds, TypeApplications #-}
import Owt

main = mkOwtClient "http://localhost:9876/owt" >>= owt @POST "f(sota.hard_task)" "solve AGI" >>= putBS
